// The names and ports of the data tier's client Services: one definition that the cache and database builders
// (which create the Services) and the binding (which points the app at them) both import.
import type { ScalableApp } from '../api/v1alpha1/index.js';
import { childName } from './meta.js';

export const REDIS_PORT = 6379;
export const MYSQL_PORT = 3306;
/** Virtual buckets the shard map assigns to shards; the app hashes a key to a bucket, the map names the shard. */
export const SHARD_BUCKETS = 1024;

export interface Endpoint {
  host: string;
  port: number;
}

/** Redis client Service: `<app>-cache`. */
export const cacheServiceName = (app: ScalableApp) => childName(app, 'cache');

/** Database write Service (the primary): `<app>-db-primary`. */
export const databasePrimaryServiceName = (app: ScalableApp) => childName(app, 'db', 'primary');

/** Database read Service (the replicas): `<app>-db-replicas`. */
export const databaseReplicasServiceName = (app: ScalableApp) => childName(app, 'db', 'replicas');

/** Write Service of shard `index`: `<app>-db-shard-<index>-primary`. */
export const shardPrimaryServiceName = (app: ScalableApp, index: number) =>
  childName(app, 'db', 'shard', String(index), 'primary');

/** Read Service of shard `index`: `<app>-db-shard-<index>-replicas`. */
export const shardReplicasServiceName = (app: ScalableApp, index: number) =>
  childName(app, 'db', 'shard', String(index), 'replicas');

export const cacheEndpoint = (app: ScalableApp): Endpoint => ({
  host: cacheServiceName(app),
  port: REDIS_PORT,
});

/** `host:port`, as status and logs show an endpoint. */
export const formatEndpoint = (e: Endpoint) => `${e.host}:${e.port}`;
