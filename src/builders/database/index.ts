// The database tier: MySQL or MariaDB as a main replication group plus one group per shard, all from one
// ConfigMap of config files and scripts (src/builders/database/config and scripts).
//
// How a server comes up (see scripts/): on every start of the container, start.sh writes its conf.d (role
// settings, unique server-id) and hands over to the image's entrypoint, which initializes an empty data
// directory and runs bootstrap.sh once: the primary creates the database and users, a replica copies the
// primary's databases with their GTID position (so a replica added long after the primary purged its binary
// logs still catches up) and replicates from there. Passwords reach the pods only as secretKeyRefs to the
// credentials Secret.
import type { ScalableApp } from '../../api/v1alpha1/index.js';
import { configHash, requireIdentity } from '../data-tier/stateful.js';
import { type Endpoint, MYSQL_PORT } from '../endpoints.js';
import { objectMeta } from '../meta.js';
import {
  databaseConfigMapName,
  databasePrimaryServiceName,
  databaseReplicasServiceName,
  shardPrimaryServiceName,
  shardReplicasServiceName,
} from '../names.js';
import type { BuildContext, K8sObject } from '../types.js';
import { databaseConfigData } from './assets.js';
import { buildGroup } from './group.js';
import { groups } from './groups.js';

/** The database objects of an app; empty when the database is absent or disabled. */
export function buildDatabase({ app }: BuildContext): K8sObject[] {
  const db = app.spec.database;
  if (!db?.enabled) return [];
  requireIdentity(app);
  const data = databaseConfigData(db.engine);
  const config = { name: databaseConfigMapName(app), hash: configHash(data) };
  const groupObjects = groups(app, db).flatMap((group) => buildGroup(app, db, group, config));
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: objectMeta(app, 'database', config.name), data },
    ...groupObjects,
  ];
}

export interface DatabaseEndpoints {
  primary: Endpoint;
  replicas: Endpoint;
  shards: { index: number; primary: Endpoint; replicas: Endpoint }[];
}

/** The write and read endpoints of the main group and of every shard (the Services buildDatabase creates). */
export function databaseEndpoints(app: ScalableApp): DatabaseEndpoints {
  const endpoint = (host: string): Endpoint => ({ host, port: MYSQL_PORT });
  return {
    primary: endpoint(databasePrimaryServiceName(app)),
    replicas: endpoint(databaseReplicasServiceName(app)),
    shards: Array.from({ length: app.spec.database?.shards.count ?? 0 }, (_, index) => ({
      index,
      primary: endpoint(shardPrimaryServiceName(app, index)),
      replicas: endpoint(shardReplicasServiceName(app, index)),
    })),
  };
}
