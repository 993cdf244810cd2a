// Replication groups: the main group (`<app>-db-*`) and one per shard (`<app>-db-shard-<i>-*`), each a primary
// with read replicas. Here: their names (from names.ts), labels and server-id ranges.
import type { DatabaseSpec, ScalableApp } from '../../api/v1alpha1/index.js';
import { ROLE_LABEL, SHARD_LABEL } from '../meta.js';
import { databaseRoleNames, type Role, type RoleNames } from '../names.js';
import { BuildError } from '../types.js';

export interface Group {
  /** Shard index, or undefined for the main group. */
  shard: number | undefined;
  /** Value of the shard label: "main" or the shard index. */
  shardLabel: string;
  /** Number of read replicas. */
  replicas: number;
  /** First server-id of each role; a pod adds its ordinal. */
  serverIdBase: Record<Role, number>;
  names: Record<Role, RoleNames>;
}

/** Server ids: each group owns a block of 100, the primary takes the first id, replicas from the 11th. */
const SERVER_ID_BLOCK = 100;
const REPLICA_OFFSET = 11;
/** Most replicas a group can have before its server ids would run into the next group's. */
export const MAX_REPLICAS_PER_GROUP = SERVER_ID_BLOCK - REPLICA_OFFSET;

export const groupLabels = (group: Group, role?: Role): Record<string, string> => ({
  [SHARD_LABEL]: group.shardLabel,
  ...(role ? { [ROLE_LABEL]: role } : {}),
});

function group(app: ScalableApp, db: DatabaseSpec, shard: number | undefined): Group {
  const [replicas, replicasField] =
    shard === undefined
      ? [db.replicas, 'spec.database.replicas']
      : [db.shards.replicasPerShard, 'spec.database.shards.replicasPerShard'];
  if (replicas > MAX_REPLICAS_PER_GROUP) {
    throw new BuildError(
      replicasField,
      `${replicas} replicas do not fit the ${MAX_REPLICAS_PER_GROUP} server ids a replication group has`,
    );
  }
  const block = SERVER_ID_BLOCK * (shard === undefined ? 0 : shard + 1);
  return {
    shard,
    shardLabel: shard === undefined ? 'main' : String(shard),
    replicas,
    serverIdBase: { primary: block + 1, replica: block + REPLICA_OFFSET },
    names: {
      primary: databaseRoleNames(app, shard, 'primary'),
      replica: databaseRoleNames(app, shard, 'replica'),
    },
  };
}

/** The main group, then one group per shard. */
export const groups = (app: ScalableApp, db: DatabaseSpec): Group[] => [
  group(app, db, undefined),
  ...Array.from({ length: db.shards.count }, (_, i) => group(app, db, i)),
];
