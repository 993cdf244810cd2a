import { describe, expect, it } from '@jest/globals';
import { buildContext, editedContext, TEST_CREDENTIALS } from '../../test/fixtures/build-context.js';
import { withCache, withDatabase, withShards } from '../../test/fixtures/scalable-app.js';
import { bindingChecksum, bindingValues, buildBinding, needsBinding } from './binding.js';
import { bindingSecretName } from './names.js';
import { BuildError } from './types.js';

const PW = encodeURIComponent(TEST_CREDENTIALS.appPassword);
const decode = (data: Record<string, string>) =>
  Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

describe('bindingValues', () => {
  it.each([
    {
      name: 'Redis enabled gives REDIS_URL to database 0 of the cache Service',
      ctx: buildContext(withCache()),
      expected: { REDIS_URL: 'redis://:cache%20p%40ss%2Fw%3Ard@shop-cache:6379/0' },
    },
    {
      name: 'the database gives write and read URLs to the primary and replica Services, password encoded',
      ctx: buildContext(withDatabase({ databaseName: 'shop' })),
      expected: {
        DATABASE_WRITE_URL: `mysql://app:${PW}@shop-db-primary:3306/shop`,
        DATABASE_READ_URL: `mysql://app:${PW}@shop-db-replicas:3306/shop`,
        DATABASE_SHARDS: '[]',
        SHARD_BUCKETS: '1024',
        // Where the shard map lives (on the write URL's database) and how fresh apps keep their copy.
        SHARD_MAP_TABLE: '_sapp_shard_map',
        SHARD_FENCE_TABLE: '_sapp_shard_buckets',
        SHARD_BUCKET_COLUMN: 'shard_bucket',
        SHARD_MAP_MAX_AGE_MS: '2000',
        SHARD_MAP_REFRESH_MS: '500',
      },
    },
    {
      name: 'without replicas, reads go to the primary',
      ctx: buildContext(withDatabase({ replicas: 0 })),
      expected: { DATABASE_READ_URL: `mysql://app:${PW}@shop-db-primary:3306/app` },
    },
    {
      name: 'shards are listed in index order with their own write and read Services',
      ctx: buildContext(withShards(2)),
      expected: {
        DATABASE_SHARDS: JSON.stringify([
          {
            index: 0,
            writeUrl: `mysql://app:${PW}@shop-db-shard-0-primary:3306/app`,
            readUrl: `mysql://app:${PW}@shop-db-shard-0-replicas:3306/app`,
          },
          {
            index: 1,
            writeUrl: `mysql://app:${PW}@shop-db-shard-1-primary:3306/app`,
            readUrl: `mysql://app:${PW}@shop-db-shard-1-replicas:3306/app`,
          },
        ]),
      },
    },
    {
      name: 'shards without replicas read from their primary',
      ctx: buildContext(withShards(1, 0)),
      expected: {
        DATABASE_SHARDS: JSON.stringify([
          {
            index: 0,
            writeUrl: `mysql://app:${PW}@shop-db-shard-0-primary:3306/app`,
            readUrl: `mysql://app:${PW}@shop-db-shard-0-primary:3306/app`,
          },
        ]),
      },
    },
  ])('$name', ({ ctx, expected }) => {
    expect(bindingValues(ctx)).toMatchObject(expected);
  });

  it.each([
    {
      name: 'a web-only app',
      ctx: buildContext(),
      absent: ['REDIS_URL', 'DATABASE_WRITE_URL', 'SHARD_BUCKETS'],
    },
    { name: 'a disabled cache', ctx: buildContext(withCache({ enabled: false })), absent: ['REDIS_URL'] },
    {
      name: 'a disabled database',
      ctx: buildContext(withDatabase({ enabled: false })),
      absent: [
        'DATABASE_WRITE_URL',
        'DATABASE_READ_URL',
        'DATABASE_SHARDS',
        'SHARD_BUCKETS',
        'SHARD_MAP_TABLE',
      ],
    },
  ])('$name has no URL for what is not running', ({ ctx, absent }) => {
    const keys = Object.keys(bindingValues(ctx));
    for (const key of absent) expect(keys).not.toContain(key);
  });

  it('with the database, carries the app password only inside the URLs: root and replication stay out', () => {
    const values = bindingValues(buildContext(withDatabase()));
    expect(Object.keys(values).filter((k) => k.startsWith('MYSQL_'))).toEqual([]);
    const text = JSON.stringify(values);
    expect(text).not.toContain(TEST_CREDENTIALS.rootPassword);
    expect(text).not.toContain(TEST_CREDENTIALS.replicationPassword);
    expect(text).toContain(encodeURIComponent(TEST_CREDENTIALS.appPassword));
  });

  it.each([
    ['Redis only', buildContext(withCache())],
    ['a disabled database', buildContext(withCache(), withDatabase({ enabled: false }))],
  ])('%s: only the cache password is in the binding, inside REDIS_URL', (_name, ctx) => {
    const values = bindingValues(ctx);
    expect(Object.keys(values)).toEqual(['REDIS_URL']);
    const { cachePassword, ...database } = TEST_CREDENTIALS;
    for (const password of Object.values(database)) expect(JSON.stringify(values)).not.toContain(password);
    const url = new URL(values.REDIS_URL!);
    expect(url.username).toBe('');
    expect(decodeURIComponent(url.password)).toBe(cachePassword);
    expect(`${url.hostname}:${url.port}${url.pathname}`).toBe('shop-cache:6379/0');
  });

  it('URL-encodes every reserved character of the password, so the URL parses back to it', () => {
    const values = bindingValues(buildContext(withDatabase()));
    const url = new URL(values.DATABASE_WRITE_URL!);
    expect(decodeURIComponent(url.password)).toBe(TEST_CREDENTIALS.appPassword);
    expect(url.hostname).toBe('shop-db-primary');
    expect(url.pathname).toBe('/app');
  });

  it.each(['rootPassword', 'replicationPassword', 'appPassword'] as const)(
    'with the database, an empty %s is a BuildError naming it',
    (key) => {
      const ctx = { ...buildContext(withDatabase()), credentials: { ...TEST_CREDENTIALS, [key]: '' } };
      expect(() => bindingValues(ctx)).toThrow(BuildError);
      expect(() => bindingValues(ctx)).toThrow(`credentials.${key}: must be a non-empty password`);
    },
  );

  it('database passwords do not matter without a database; an empty cache password is a BuildError', () => {
    const empty = { rootPassword: '', replicationPassword: '', appPassword: '' };
    const ctx = buildContext(withCache());
    expect(Object.keys(bindingValues({ ...ctx, credentials: { ...ctx.credentials, ...empty } }))).toEqual([
      'REDIS_URL',
    ]);
    expect(() => bindingValues({ ...ctx, credentials: { ...ctx.credentials, cachePassword: '' } })).toThrow(
      'credentials.cachePassword: must be a non-empty password',
    );
  });
});

describe('buildBinding', () => {
  it.each([
    ['a web-only app', buildContext()],
    [
      'a disabled cache and database',
      buildContext(withCache({ enabled: false }), withDatabase({ enabled: false })),
    ],
  ])('there is no binding for %s', (_name, ctx) => {
    expect(buildBinding(ctx)).toBeUndefined();
  });

  it('is an Opaque Secret <app>-binding with base64 data (no stringData), keys sorted', () => {
    const secret = buildBinding(buildContext(withCache(), withDatabase()))!;
    expect(secret.metadata.name).toBe('shop-binding');
    expect(bindingSecretName(buildContext().app)).toBe('shop-binding');
    expect(secret.type).toBe('Opaque');
    expect(secret).not.toHaveProperty('stringData');
    expect(Object.keys(secret.data)).toEqual([...Object.keys(secret.data)].sort());
    expect(decode(secret.data)).toEqual(bindingValues(buildContext(withCache(), withDatabase())));
  });

  it('matches the snapshot for Redis and a sharded database', () => {
    expect(buildBinding(buildContext(withCache(), withShards(2)))).toMatchSnapshot();
  });
});

describe('needsBinding', () => {
  it.each([
    ['a web-only app', buildContext(), false],
    [
      'a disabled cache and database',
      buildContext(withCache({ enabled: false }), withDatabase({ enabled: false })),
      false,
    ],
    ['Redis', buildContext(withCache()), true],
    ['a database', buildContext(withDatabase()), true],
  ])('%s: %s', (_name, ctx, expected) => {
    expect(needsBinding(ctx.app)).toBe(expected);
  });
});

describe('bindingChecksum', () => {
  const data = buildBinding(buildContext(withCache(), withDatabase()))!.data;

  it('is a sha256 hex digest that ignores key order', () => {
    const reversed = Object.fromEntries(Object.entries(data).reverse());
    expect(bindingChecksum(data)).toMatch(/^[0-9a-f]{64}$/);
    expect(bindingChecksum(reversed)).toBe(bindingChecksum(data));
  });

  it.each([
    ['a value changes', { ...data, REDIS_URL: 'eA==' }],
    ['a key is added', { ...data, EXTRA: 'eA==' }],
    ['a key is removed', Object.fromEntries(Object.entries(data).filter(([k]) => k !== 'REDIS_URL'))],
  ])('changes when %s', (_name, changed) => {
    expect(bindingChecksum(changed)).not.toBe(bindingChecksum(data));
  });

  it('keeps the boundary between key and value', () => {
    expect(bindingChecksum({ ab: 'c' })).not.toBe(bindingChecksum({ a: 'bc' }));
  });

  it('changes when a password changes, so pods roll', () => {
    const other = editedContext(() => undefined, withDatabase());
    other.credentials = { ...TEST_CREDENTIALS, appPassword: 'rotated' };
    expect(bindingChecksum(buildBinding(other)!.data)).not.toBe(
      bindingChecksum(buildBinding(buildContext(withDatabase()))!.data),
    );
  });
});
