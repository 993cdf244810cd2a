import { describe, expect, it } from '@jest/globals';
import { scalableApp, withCache, withDatabase } from '../../test/fixtures/scalable-app.js';
import { parseScalableApp } from '../api/v1alpha1/parse.js';
import { buildCredentialsSecret, credentialsFromSecret } from '../builders/credentials.js';
import { completeCredentials, randomPassword } from './credentials.js';

const parsed = (...mods: Parameters<typeof scalableApp>) => {
  const r = parseScalableApp(scalableApp(...mods));
  if (!r.ok) throw new Error(r.message);
  r.value.metadata.uid = 'uid-1';
  return r.value;
};

const creds = {
  rootPassword: 'r',
  replicationPassword: 'p',
  appPassword: 'a',
  cachePassword: 'c',
  operatorPassword: 'o',
};

describe('credentials', () => {
  it('generates distinct 32-character URL-safe passwords', () => {
    const a = randomPassword();
    const b = randomPassword();
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(a).not.toBe(b);
  });

  it('keeps existing values and fills only what is missing', () => {
    const c = completeCredentials({ rootPassword: 'kept' }, () => 'new');
    expect(c).toEqual({
      rootPassword: 'kept',
      replicationPassword: 'new',
      appPassword: 'new',
      cachePassword: 'new',
      operatorPassword: 'new',
    });
  });

  it('round-trips through the Secret', () => {
    const creds = {
      rootPassword: 'r',
      replicationPassword: 'p',
      appPassword: 'a',
      cachePassword: 'c',
      operatorPassword: 'o',
    };
    const [secret] = buildCredentialsSecret({ app: parsed(withDatabase()), credentials: creds });
    expect(credentialsFromSecret(secret as unknown as { data: Record<string, string> })).toEqual(creds);
  });

  it('is owned by the app only when deletionPolicy is Delete', () => {
    const creds = {
      rootPassword: 'r',
      replicationPassword: 'p',
      appPassword: 'a',
      cachePassword: 'c',
      operatorPassword: 'o',
    };
    const [retained] = buildCredentialsSecret({ app: parsed(withDatabase()), credentials: creds });
    const [deleted] = buildCredentialsSecret({
      app: parsed(withDatabase({ deletionPolicy: 'Delete' })),
      credentials: creds,
    });
    expect(retained!.metadata.ownerReferences).toBeUndefined();
    expect(deleted!.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'ScalableApp', uid: 'uid-1' }),
    ]);
  });

  it('exists for a cache without a database, holding every key, and is kept on deletion like the volume', () => {
    const [secret] = buildCredentialsSecret({
      app: parsed(withCache()),
      credentials: creds,
    });
    expect(Object.keys((secret as unknown as { data: Record<string, string> }).data).sort()).toEqual([
      'MYSQL_APP_PASSWORD',
      'MYSQL_OPERATOR_PASSWORD',
      'MYSQL_REPLICATION_PASSWORD',
      'MYSQL_ROOT_PASSWORD',
      'REDIS_PASSWORD',
    ]);
    expect(secret!.metadata.ownerReferences).toBeUndefined();
    expect(secret!.metadata.labels).toMatchObject({ 'app.kubernetes.io/component': 'cache' });
  });

  it('is not built without a database or a cache', () => {
    expect(
      buildCredentialsSecret({
        app: parsed(),
        credentials: {
          rootPassword: 'r',
          replicationPassword: 'p',
          appPassword: 'a',
          cachePassword: 'c',
          operatorPassword: 'o',
        },
      }),
    ).toEqual([]);
  });
});
