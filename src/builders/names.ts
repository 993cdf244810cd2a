// The name of every object the operator creates, in one place: DNS-1123, at most 63 characters, stable, with a
// hash suffix when they must be cut. Each is `<app>-<suffix...>`.
import { createHash } from 'node:crypto';
import type { ScalableApp } from '../api/v1alpha1/index.js';

export const MAX_NAME = 63;
/** StatefulSet pods carry a controller-revision-hash label of `<name>-<10 chars>`; keep StatefulSet names short. */
export const MAX_STATEFULSET_NAME = 52;

const HASH_LEN = 8;

const shortHash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, HASH_LEN);

/**
 * Joins parts into a DNS-1123 label of at most `max` characters. Names that fit are returned as they are;
 * longer ones are cut and given a hash of the full name, so different long names stay different and stable.
 */
export function dnsName(parts: readonly string[], max = MAX_NAME): string {
  const full = parts
    .filter((p) => p !== '')
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (full.length <= max) return full;
  const hash = shortHash(full);
  const head = full.slice(0, max - HASH_LEN - 1).replace(/-+$/, '');
  return `${head}-${hash}`;
}

/** The name of a child object: `<app>-<suffix...>`, DNS-1123, cut with a hash when too long. */
export const childName = (app: ScalableApp, ...suffix: string[]) =>
  dnsName([app.metadata.name!, ...suffix], MAX_NAME);

/** The name of a StatefulSet: `<app>-<suffix...>`, short enough for its pods' controller-revision-hash label. */
export const statefulSetName = (app: ScalableApp, ...suffix: string[]) =>
  dnsName([app.metadata.name!, ...suffix], MAX_STATEFULSET_NAME);

// ---- the app's pods and what stands in front of them

/** The web Deployment, and the objects in front of it (HPA, Service, Ingress, HTTPRoute, PDB): `<app>-web`. */
export const webName = (app: ScalableApp) => childName(app, 'web');

/** The web container's port, which the probes, the Service and the Ingress refer to by this name. */
export const HTTP_PORT_NAME = 'http';

/** The workers Deployment, its HPA and PDB: `<app>-workers`. */
export const workersName = (app: ScalableApp) => childName(app, 'workers');

/** The binding Secret the app's pods load: `<app>-binding`. */
export const bindingSecretName = (app: ScalableApp) => childName(app, 'binding');

/** The data tier's passwords: `<app>-credentials`. */
export const credentialsSecretName = (app: ScalableApp) => childName(app, 'credentials');

/** The NetworkPolicy admitting clients to a data tier component: `<app>-cache-ingress`, `<app>-db-ingress`. */
export const networkPolicyName = (app: ScalableApp, component: 'cache' | 'database') =>
  childName(app, component === 'cache' ? 'cache' : 'db', 'ingress');

// ---- the cache

/** Redis client Service: `<app>-cache`. */
export const cacheServiceName = (app: ScalableApp) => childName(app, 'cache');

export interface CacheNames {
  statefulSet: string;
  headless: string;
  client: string;
  config: string;
}

export const cacheNames = (app: ScalableApp): CacheNames => ({
  statefulSet: statefulSetName(app, 'cache'),
  headless: childName(app, 'cache', 'headless'),
  client: cacheServiceName(app),
  config: childName(app, 'cache', 'config'),
});

// ---- the database

/** The database ConfigMap (config files and scripts of every server): `<app>-db-config`. */
export const databaseConfigMapName = (app: ScalableApp) => childName(app, 'db', 'config');

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

export type Role = 'primary' | 'replica';

export interface RoleNames {
  statefulSet: string;
  /** The headless governing Service of the StatefulSet. */
  headless: string;
  /** The client Service: the write Service of the primary, the read Service of the replicas. */
  service: string;
}

/**
 * The objects of one role of a replication group: the main group's `<app>-db-<role>` and
 * `<app>-db-<role>-headless`, shard i's `<app>-db-shard-<i>-<role>...`; its client Service as above.
 */
export function databaseRoleNames(app: ScalableApp, shard: number | undefined, role: Role): RoleNames {
  const prefix = shard === undefined ? ['db'] : ['db', 'shard', String(shard)];
  const service =
    role === 'primary'
      ? shard === undefined
        ? databasePrimaryServiceName(app)
        : shardPrimaryServiceName(app, shard)
      : shard === undefined
        ? databaseReplicasServiceName(app)
        : shardReplicasServiceName(app, shard);
  return {
    statefulSet: statefulSetName(app, ...prefix, role),
    headless: childName(app, ...prefix, role, 'headless'),
    service,
  };
}
