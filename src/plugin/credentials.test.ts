import { describe, expect, it } from '@jest/globals';
import { formatCredentials, MASK, maskUrls } from './credentials.js';

describe('maskUrls', () => {
  it.each([
    [
      'a MySQL URL',
      'mysql://app:s3cr%2Ft@shop-db-primary:3306/shop',
      `mysql://app:${MASK}@shop-db-primary:3306/shop`,
    ],
    ['a Redis URL without a user', 'redis://:p4ss@shop-cache:6379/0', `redis://:${MASK}@shop-cache:6379/0`],
    [
      'every URL inside JSON',
      '[{"writeUrl":"mysql://app:a@h0:3306/d","readUrl":"mysql://app:b@h1:3306/d"}]',
      `[{"writeUrl":"mysql://app:${MASK}@h0:3306/d","readUrl":"mysql://app:${MASK}@h1:3306/d"}]`,
    ],
    ['a URL without a password', 'http://shop.example.test/', 'http://shop.example.test/'],
    ['a host:port', 'shop-cache:6379', 'shop-cache:6379'],
  ])('%s', (_name, input, expected) => {
    expect(maskUrls(input)).toBe(expected);
  });
});

describe('formatCredentials', () => {
  const input = {
    app: 'shop',
    namespace: 'shop',
    binding: {
      name: 'shop-binding',
      values: {
        REDIS_URL: 'redis://:redis-pw@shop-cache:6379/0',
        DATABASE_WRITE_URL: 'mysql://app:app-pw@shop-db-primary:3306/shop',
        DATABASE_READ_URL: 'mysql://app:app-pw@shop-db-replicas:3306/shop',
        DATABASE_SHARDS: JSON.stringify([
          {
            index: 0,
            writeUrl: 'mysql://app:app-pw@shop-db-shard-0-primary:3306/shop',
            readUrl: 'mysql://app:app-pw@shop-db-shard-0-replicas:3306/shop',
          },
        ]),
        SHARD_BUCKETS: '1024',
      },
    },
    credentials: {
      name: 'shop-credentials',
      values: { MYSQL_APP_PASSWORD: 'app-pw', MYSQL_ROOT_PASSWORD: 'root-pw', REDIS_PASSWORD: 'redis-pw' },
    },
    show: false,
    databaseService: 'shop-db-primary',
    cacheService: 'shop-cache',
  };

  it('masks every password unless asked', () => {
    const text = formatCredentials(input);
    for (const secret of ['app-pw', 'root-pw', 'redis-pw']) expect(text).not.toContain(secret);
    expect(text).toMatch(/ {2}DATABASE_WRITE_URL +mysql:\/\/app:\*{5}@shop-db-primary:3306\/shop\n/);
    expect(text).toMatch(/ {2}MYSQL_ROOT_PASSWORD +\*{5} +MySQL user root \(local socket only\)\n/);
    expect(text).toContain('(passwords masked; --show prints them)');
  });

  it('spells out the shard URLs one a line', () => {
    const text = formatCredentials(input);
    expect(text).toMatch(
      / {2}DATABASE_SHARDS\[0\] write +mysql:\/\/app:\*{5}@shop-db-shard-0-primary:3306\/shop\n/,
    );
    expect(text).toMatch(
      / {2}DATABASE_SHARDS\[0\] read +mysql:\/\/app:\*{5}@shop-db-shard-0-replicas:3306\/shop\n/,
    );
    expect(text).toMatch(/ {2}SHARD_BUCKETS +1024\n/);
  });

  it('prints the passwords with --show', () => {
    const text = formatCredentials({ ...input, show: true });
    expect(text).toMatch(/ {2}REDIS_URL +redis:\/\/:redis-pw@shop-cache:6379\/0\n/);
    expect(text).toMatch(/ {2}MYSQL_APP_PASSWORD +app-pw +MySQL user app \(the app's account\)\n/);
    expect(text).not.toContain(MASK);
  });

  it('says how to reach the Services from outside the cluster', () => {
    const text = formatCredentials(input);
    expect(text).toContain('  kubectl -n shop port-forward svc/shop-db-primary 3306\n');
    expect(text).toContain('  kubectl -n shop port-forward svc/shop-cache 6379\n');
  });

  it('says which Secret does not exist yet', () => {
    const text = formatCredentials({ ...input, binding: { name: 'shop-binding' } });
    expect(text).toContain(
      'Secret shop-binding does not exist (yet): the operator writes it on its first pass.',
    );
  });
});
