// The data tier's credentials Secret, `<app>-credentials`: the MySQL passwords and the Redis password. It exists
// while the database or the cache is enabled and holds every key either way, so switching one of them off and on
// again never loses a password. Owned by the app (garbage-collected with it) only when database.deletionPolicy is
// Delete: with Retain (also the default without a database, like the cache's volume) it outlives the app,
// because data without its password is lost data, and re-creating the app picks the same passwords up again.
import type { ScalableApp } from '../api/v1alpha1/index.js';
import { objectMeta } from './meta.js';
import { credentialsSecretName } from './names.js';
import type { BuildContext, Credentials, K8sObject } from './types.js';

/** The MySQL account the app connects as (created on every primary by the database's bootstrap). */
export const APP_USER = 'app';

/** The replication account, the same on every server of every group. */
export const REPLICATION_USER = 'replicator';

/** The operator's account on every database server: it reads replication state, fences, promotes, repoints. */
export const OPERATOR_USER = 'sapp-operator';

export const CREDENTIAL_KEYS = {
  rootPassword: 'MYSQL_ROOT_PASSWORD',
  replicationPassword: 'MYSQL_REPLICATION_PASSWORD',
  appPassword: 'MYSQL_APP_PASSWORD',
  operatorPassword: 'MYSQL_OPERATOR_PASSWORD',
  cachePassword: 'REDIS_PASSWORD',
} as const satisfies Record<keyof Credentials, string>;

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** Whether the app has a credentials Secret: it has a database or a cache. */
export const hasCredentials = (app: ScalableApp): boolean =>
  Boolean(app.spec.database?.enabled || app.spec.cache?.enabled);

/** The credentials Secret, or nothing when the app has neither database nor cache. */
export function buildCredentialsSecret({ app, credentials }: BuildContext): K8sObject[] {
  if (!hasCredentials(app)) return [];
  const meta = objectMeta(app, app.spec.database?.enabled ? 'database' : 'cache', credentialsSecretName(app));
  if (app.spec.database?.deletionPolicy !== 'Delete') delete meta.ownerReferences;
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: meta,
      type: 'Opaque',
      data: Object.fromEntries(
        (Object.keys(CREDENTIAL_KEYS) as (keyof Credentials)[]).map((k) => [
          CREDENTIAL_KEYS[k],
          b64(credentials[k]),
        ]),
      ),
    },
  ];
}

/** Reads credentials back from a live Secret; keys that are missing come back undefined. */
export function credentialsFromSecret(
  secret: { data?: Record<string, string> } | undefined,
): Partial<Credentials> {
  const out: Partial<Credentials> = {};
  for (const k of Object.keys(CREDENTIAL_KEYS) as (keyof Credentials)[]) {
    const v = secret?.data?.[CREDENTIAL_KEYS[k]];
    if (v) out[k] = Buffer.from(v, 'base64').toString('utf8');
  }
  return out;
}
