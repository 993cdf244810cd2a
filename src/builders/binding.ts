// The binding Secret `<app>-binding`: how the app finds its data tier (the URLs the web and worker pods load with
// envFrom) and, while the database runs, the database passwords its pods read with secretKeyRef.
import type { V1Secret } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import type { DatabaseSpec, ScalableApp } from '../api/v1alpha1/index.js';
import { SHARD_BUCKETS } from '../api/sharding.js';
import {
  BUCKET_FENCE_TABLE,
  DEFAULT_SHARD_MAP_MAX_AGE_MS,
  DEFAULT_SHARD_MAP_REFRESH_MS,
  SHARD_BUCKET_COLUMN,
  SHARD_MAP_TABLE,
} from '../resharding/contract.js';
import { APP_USER } from './credentials.js';
import { cacheEndpoint, type Endpoint, MYSQL_PORT } from './endpoints.js';
import { objectMeta } from './meta.js';
import {
  bindingSecretName,
  databasePrimaryServiceName,
  databaseReplicasServiceName,
  shardPrimaryServiceName,
  shardReplicasServiceName,
} from './names.js';
import { BuildError, type BuildContext, type Credentials, type K8sObject } from './types.js';

/** Pod-template annotation with the binding's checksum: pods roll when the binding changes. */
export const BINDING_CHECKSUM_ANNOTATION = 'scalable.dev/binding-checksum';

export type BindingSecret = V1Secret & K8sObject & { data: Record<string, string> };

/** True when there is a binding for the pods to load: some data tier component is enabled. */
export const needsBinding = (app: ScalableApp) =>
  app.spec.cache?.enabled === true || app.spec.database?.enabled === true;

const mysqlUrl = (password: string, e: Endpoint, database: string) =>
  `mysql://${APP_USER}:${encodeURIComponent(password)}@${e.host}:${e.port}/${database}`;

const mysql = (host: string): Endpoint => ({ host, port: MYSQL_PORT });

/** Where the app writes and reads: the read side falls back to the primary when there are no replicas. */
function databaseUrls(app: ScalableApp, db: DatabaseSpec, password: string): Record<string, string> {
  const primary = mysql(databasePrimaryServiceName(app));
  const reads = db.replicas > 0 ? mysql(databaseReplicasServiceName(app)) : primary;
  const shards = Array.from({ length: db.shards.count }, (_, index) => {
    const shardPrimary = mysql(shardPrimaryServiceName(app, index));
    const shardReads =
      db.shards.replicasPerShard > 0 ? mysql(shardReplicasServiceName(app, index)) : shardPrimary;
    return {
      index,
      writeUrl: mysqlUrl(password, shardPrimary, db.databaseName),
      readUrl: mysqlUrl(password, shardReads, db.databaseName),
    };
  });
  return {
    DATABASE_WRITE_URL: mysqlUrl(password, primary, db.databaseName),
    DATABASE_READ_URL: mysqlUrl(password, reads, db.databaseName),
    DATABASE_SHARDS: JSON.stringify(shards),
    SHARD_BUCKETS: String(SHARD_BUCKETS),
    // The resharding contract: the map on the write URL's database, the fence on every group's primary.
    SHARD_MAP_TABLE,
    SHARD_FENCE_TABLE: BUCKET_FENCE_TABLE,
    SHARD_BUCKET_COLUMN,
    SHARD_MAP_MAX_AGE_MS: String(DEFAULT_SHARD_MAP_MAX_AGE_MS),
    SHARD_MAP_REFRESH_MS: String(DEFAULT_SHARD_MAP_REFRESH_MS),
  };
}

/** The passwords must be non-empty. */
function checkPasswords(credentials: Credentials, keys: (keyof Credentials)[]): void {
  for (const key of keys) {
    if (!credentials[key]) throw new BuildError(`credentials.${key}`, 'must be a non-empty password');
  }
}

const DATABASE_PASSWORDS = [
  'rootPassword',
  'replicationPassword',
  'appPassword',
] as const satisfies (keyof Credentials)[];

/**
 * The binding's values in clear text: the URLs of the enabled components (the app user's password is inside
 * the database URLs, the cache password inside REDIS_URL). The root and replication passwords are not here:
 * they stay in `<app>-credentials`, which only the database pods read. Empty when no data tier component is
 * enabled.
 */
export function bindingValues({ app, credentials }: BuildContext): Record<string, string> {
  const db = app.spec.database;
  const { host, port } = cacheEndpoint(app);
  return {
    ...(app.spec.cache?.enabled
      ? (checkPasswords(credentials, ['cachePassword']),
        { REDIS_URL: `redis://:${encodeURIComponent(credentials.cachePassword)}@${host}:${port}/0` })
      : {}),
    ...(db?.enabled
      ? (checkPasswords(credentials, DATABASE_PASSWORDS), databaseUrls(app, db, credentials.appPassword))
      : {}),
  };
}

const sortedEntries = (values: Record<string, string>) =>
  Object.entries(values).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

const base64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/**
 * The binding Secret, or undefined when no data tier component is enabled. Values go in `data` (base64, keys
 * sorted), not `stringData`: the API server stores and returns only `data`, so what the operator applies is
 * exactly what it reads back, and drift detection and server-side apply see no phantom change.
 */
export function buildBinding(ctx: BuildContext): BindingSecret | undefined {
  if (!needsBinding(ctx.app)) return undefined;
  const data = Object.fromEntries(sortedEntries(bindingValues(ctx)).map(([k, v]) => [k, base64(v)]));
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: objectMeta(ctx.app, 'binding', bindingSecretName(ctx.app)),
    type: 'Opaque',
    data,
  };
}

/** sha256 over the sorted keys and values of a Secret's data: changes exactly when some key or value changes. */
export function bindingChecksum(secretData: Record<string, string>): string {
  const hash = createHash('sha256');
  for (const [key, value] of sortedEntries(secretData)) hash.update(`${key}\0${value}\0`);
  return hash.digest('hex');
}
