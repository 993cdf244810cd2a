import { describe, expect, it } from '@jest/globals';
import { buildContext } from '../../test/fixtures/build-context.js';
import { withName } from '../../test/fixtures/scalable-app.js';
import {
  bindingSecretName,
  cacheNames,
  credentialsSecretName,
  databaseConfigMapName,
  databaseRoleNames,
  dnsName,
  MAX_NAME,
  MAX_STATEFULSET_NAME,
  networkPolicyName,
  webName,
  workersName,
} from './names.js';

const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

describe('dnsName', () => {
  it.each([
    [['shop', 'web'], 'shop-web'],
    [['shop', 'db', 'shard', '3', 'replica'], 'shop-db-shard-3-replica'],
    [['Shop_App', 'cache'], 'shop-app-cache'],
    [['shop', '', 'web'], 'shop-web'],
  ])('joins %j into %s', (parts, name) => {
    expect(dnsName(parts)).toBe(name);
  });

  it('cuts long names to the limit with a stable hash suffix', () => {
    const long = ['a'.repeat(60), 'db', 'shard', '12', 'replica'];
    const name = dnsName(long);
    expect(name.length).toBeLessThanOrEqual(MAX_NAME);
    expect(name).toMatch(DNS1123);
    expect(dnsName(long)).toBe(name);
    expect(name).toMatch(/^a+-[0-9a-f]{8}$/);
  });

  it('keeps two long names that differ only at the end distinct', () => {
    const a = dnsName(['x'.repeat(50), 'db', 'shard', '1'], MAX_STATEFULSET_NAME);
    const b = dnsName(['x'.repeat(50), 'db', 'shard', '2'], MAX_STATEFULSET_NAME);
    expect(a).not.toBe(b);
    expect(a.length).toBeLessThanOrEqual(MAX_STATEFULSET_NAME);
  });

  it('never ends a cut name with a dash before the hash', () => {
    const name = dnsName(['ab-'.repeat(30)]);
    expect(name).not.toMatch(/--/);
    expect(name).toMatch(DNS1123);
  });
});

describe('the name of every object', () => {
  const { app } = buildContext();

  it.each([
    ['web Deployment', webName(app), 'shop-web'],
    ['workers Deployment', workersName(app), 'shop-workers'],
    ['binding Secret', bindingSecretName(app), 'shop-binding'],
    ['credentials Secret', credentialsSecretName(app), 'shop-credentials'],
    ['cache NetworkPolicy', networkPolicyName(app, 'cache'), 'shop-cache-ingress'],
    ['database NetworkPolicy', networkPolicyName(app, 'database'), 'shop-db-ingress'],
    ['database ConfigMap', databaseConfigMapName(app), 'shop-db-config'],
  ])('%s: %s', (_what, name, expected) => {
    expect(name).toBe(expected);
  });

  it('names the cache objects', () => {
    expect(cacheNames(app)).toEqual({
      statefulSet: 'shop-cache',
      headless: 'shop-cache-headless',
      client: 'shop-cache',
      config: 'shop-cache-config',
    });
  });

  it.each([
    [undefined, 'primary', 'shop-db-primary', 'shop-db-primary-headless', 'shop-db-primary'],
    [undefined, 'replica', 'shop-db-replica', 'shop-db-replica-headless', 'shop-db-replicas'],
    [2, 'primary', 'shop-db-shard-2-primary', 'shop-db-shard-2-primary-headless', 'shop-db-shard-2-primary'],
    [2, 'replica', 'shop-db-shard-2-replica', 'shop-db-shard-2-replica-headless', 'shop-db-shard-2-replicas'],
  ] as const)(
    'names the %s group %s: StatefulSet, headless and client Service',
    (shard, role, sts, headless, service) => {
      expect(databaseRoleNames(app, shard, role)).toEqual({ statefulSet: sts, headless, service });
    },
  );

  it('keeps StatefulSet names within the limit of their pods’ revision label', () => {
    const { app: long } = buildContext(withName('a'.repeat(60)));
    const names = [cacheNames(long).statefulSet, databaseRoleNames(long, 12, 'replica').statefulSet];
    for (const name of names) expect(name.length).toBeLessThanOrEqual(MAX_STATEFULSET_NAME);
    expect(webName(long).length).toBeLessThanOrEqual(MAX_NAME);
  });
});
