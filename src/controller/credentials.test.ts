import { describe, expect, it } from '@jest/globals';
import { scalableApp, withDatabase } from '../../test/fixtures/scalable-app.js';
import { parseScalableApp } from '../api/v1alpha1/parse.js';
import { buildCredentialsSecret, credentialsFromSecret } from '../builders/credentials.js';
import { completeCredentials, randomPassword } from './credentials.js';

const parsed = (...mods: Parameters<typeof scalableApp>) => {
  const r = parseScalableApp(scalableApp(...mods));
  if (!r.ok) throw new Error(r.message);
  r.value.metadata.uid = 'uid-1';
  return r.value;
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
    expect(c).toEqual({ rootPassword: 'kept', replicationPassword: 'new', appPassword: 'new' });
  });

  it('round-trips through the Secret', () => {
    const creds = { rootPassword: 'r', replicationPassword: 'p', appPassword: 'a' };
    const [secret] = buildCredentialsSecret({ app: parsed(withDatabase()), credentials: creds });
    expect(credentialsFromSecret(secret as unknown as { data: Record<string, string> })).toEqual(creds);
  });

  it('is owned by the app only when deletionPolicy is Delete', () => {
    const creds = { rootPassword: 'r', replicationPassword: 'p', appPassword: 'a' };
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

  it('is not built without a database', () => {
    expect(
      buildCredentialsSecret({
        app: parsed(),
        credentials: { rootPassword: 'r', replicationPassword: 'p', appPassword: 'a' },
      }),
    ).toEqual([]);
  });
});
