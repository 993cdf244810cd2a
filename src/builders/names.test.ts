import { describe, expect, it } from '@jest/globals';
import { dnsName, MAX_NAME, MAX_STATEFULSET_NAME } from './names.js';

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
