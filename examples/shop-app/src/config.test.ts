import { describe, expect, it } from '@jest/globals';
import { ConfigError, parseConfig } from './config.js';

const url = (host: string) => `mysql://app:p%40ss%3Aw%2Frd@${host}:3306/shop`;
const binding = {
  REDIS_URL: 'redis://:r3dis%40pw@shop-cache:6379/0',
  DATABASE_WRITE_URL: url('shop-db-primary'),
  DATABASE_READ_URL: url('shop-db-replicas'),
  DATABASE_SHARDS: JSON.stringify([
    { index: 1, writeUrl: url('shop-db-shard-1-primary'), readUrl: url('shop-db-shard-1-replicas') },
    { index: 0, writeUrl: url('shop-db-shard-0-primary'), readUrl: url('shop-db-shard-0-replicas') },
  ]),
  SHARD_BUCKETS: '1024',
};

function errorOf(env: Record<string, string | undefined>): ConfigError {
  try {
    parseConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('parseConfig accepted the environment');
}

describe('parseConfig', () => {
  it('reads the whole binding, decoding credentials and ordering shards by index', () => {
    const config = parseConfig({ ...binding, PORT: '9090', POD_NAME: 'shop-web-1' });
    expect(config.port).toBe(9090);
    expect(config.podName).toBe('shop-web-1');
    expect(config.redisUrl).toBe('redis://:r3dis%40pw@shop-cache:6379/0');
    expect(config.primary).toEqual({
      host: 'shop-db-primary',
      port: 3306,
      user: 'app',
      password: 'p@ss:w/rd',
      database: 'shop',
    });
    expect(config.replica.host).toBe('shop-db-replicas');
    expect(config.shards.map((s) => [s.index, s.write.host, s.read.host])).toEqual([
      [0, 'shop-db-shard-0-primary', 'shop-db-shard-0-replicas'],
      [1, 'shop-db-shard-1-primary', 'shop-db-shard-1-replicas'],
    ]);
    expect(config.shardBuckets).toBe(1024);
    expect(config.cacheObjects).toBe(true);
    expect(config.shardMapMaxAgeMs).toBe(2_000);
    expect(config.shardMapRefreshMs).toBe(500);
  });

  it('reads the shard map times of the binding', () => {
    const config = parseConfig({ ...binding, SHARD_MAP_MAX_AGE_MS: '3000', SHARD_MAP_REFRESH_MS: '250' });
    expect([config.shardMapMaxAgeMs, config.shardMapRefreshMs]).toEqual([3_000, 250]);
  });

  it('defaults: port 8080, no shards when DATABASE_SHARDS is [] or absent, object cache on', () => {
    const { DATABASE_SHARDS: _s, SHARD_BUCKETS: _b, ...unsharded } = binding;
    for (const env of [unsharded, { ...unsharded, DATABASE_SHARDS: '[]' }]) {
      const config = parseConfig(env);
      expect(config.port).toBe(8080);
      expect(config.shards).toEqual([]);
      expect(config.podName).toBeUndefined();
      expect(config.cacheObjects).toBe(true);
    }
    expect(parseConfig({ ...binding, CACHE_OBJECTS: 'off' }).cacheObjects).toBe(false);
  });

  it.each([
    ['REDIS_URL is missing', { REDIS_URL: undefined }, 'REDIS_URL', /is required/],
    ['REDIS_URL is blank', { REDIS_URL: '  ' }, 'REDIS_URL', /is required/],
    ['REDIS_URL has another scheme', { REDIS_URL: 'http://cache:6379' }, 'REDIS_URL', /redis:\/\//],
    ['DATABASE_WRITE_URL is missing', { DATABASE_WRITE_URL: undefined }, 'DATABASE_WRITE_URL', /is required/],
    ['DATABASE_READ_URL is missing', { DATABASE_READ_URL: undefined }, 'DATABASE_READ_URL', /is required/],
    ['DATABASE_WRITE_URL is not a URL', { DATABASE_WRITE_URL: 'shop-db:3306' }, 'DATABASE_WRITE_URL', /URL/],
    [
      'DATABASE_READ_URL uses postgres',
      { DATABASE_READ_URL: 'postgres://app:x@db:5432/shop' },
      'DATABASE_READ_URL',
      /mysql:\/\//,
    ],
    [
      'DATABASE_WRITE_URL names no database',
      { DATABASE_WRITE_URL: 'mysql://app:x@db:3306/' },
      'DATABASE_WRITE_URL',
      /database/,
    ],
    [
      'DATABASE_WRITE_URL has no user',
      { DATABASE_WRITE_URL: 'mysql://db:3306/shop' },
      'DATABASE_WRITE_URL',
      /user/,
    ],
    ['DATABASE_SHARDS is not JSON', { DATABASE_SHARDS: '[{index:0}' }, 'DATABASE_SHARDS', /JSON list/],
    ['DATABASE_SHARDS is an object', { DATABASE_SHARDS: '{}' }, 'DATABASE_SHARDS', /JSON list/],
    [
      'a shard has no writeUrl',
      { DATABASE_SHARDS: JSON.stringify([{ index: 0, readUrl: url('r') }]) },
      'DATABASE_SHARDS[0].writeUrl',
      /mysql:\/\//,
    ],
    [
      'a shard readUrl is bad',
      { DATABASE_SHARDS: JSON.stringify([{ index: 0, writeUrl: url('w'), readUrl: 'nope' }]) },
      'DATABASE_SHARDS[0].readUrl',
      /URL/,
    ],
    [
      'a shard index is negative',
      { DATABASE_SHARDS: JSON.stringify([{ index: -1, writeUrl: url('w'), readUrl: url('r') }]) },
      'DATABASE_SHARDS[0].index',
      /non-negative/,
    ],
    [
      'shard indexes have a gap',
      { DATABASE_SHARDS: JSON.stringify([{ index: 1, writeUrl: url('w'), readUrl: url('r') }]) },
      'DATABASE_SHARDS',
      /0\.\.0/,
    ],
    ['SHARD_BUCKETS is missing while sharded', { SHARD_BUCKETS: undefined }, 'SHARD_BUCKETS', /is required/],
    ['SHARD_BUCKETS is not a number', { SHARD_BUCKETS: 'many' }, 'SHARD_BUCKETS', /integer/],
    ['SHARD_BUCKETS is below the shard count', { SHARD_BUCKETS: '1' }, 'SHARD_BUCKETS', /at least/],
    ['PORT is not a number', { PORT: 'http' }, 'PORT', /integer/],
    ['PORT is too large', { PORT: '70000' }, 'PORT', /between/],
    [
      'SHARD_MAP_MAX_AGE_MS is not a number',
      { SHARD_MAP_MAX_AGE_MS: '2s' },
      'SHARD_MAP_MAX_AGE_MS',
      /integer/,
    ],
    ['SHARD_MAP_MAX_AGE_MS is too small', { SHARD_MAP_MAX_AGE_MS: '5' }, 'SHARD_MAP_MAX_AGE_MS', /between/],
    ['SHARD_MAP_REFRESH_MS is negative', { SHARD_MAP_REFRESH_MS: '-1' }, 'SHARD_MAP_REFRESH_MS', /integer/],
    [
      'SHARD_MAP_REFRESH_MS exceeds the max age',
      { SHARD_MAP_MAX_AGE_MS: '1000', SHARD_MAP_REFRESH_MS: '1500' },
      'SHARD_MAP_REFRESH_MS',
      /must not exceed SHARD_MAP_MAX_AGE_MS \(1000\)/,
    ],
    ['CACHE_OBJECTS is neither on nor off', { CACHE_OBJECTS: 'maybe' }, 'CACHE_OBJECTS', /"on" or "off"/],
  ])('names the variable when %s', (_case, change, variable, problem) => {
    const err = errorOf({ ...binding, ...change });
    expect(err.variable).toBe(variable);
    expect(err.message.startsWith(`${variable}: `)).toBe(true);
    expect(err.message).toMatch(problem);
  });

  it('never repeats a password in an error', () => {
    const err = errorOf({ ...binding, DATABASE_WRITE_URL: 'mysql://app:hunter2@db:notaport/shop' });
    expect(err.variable).toMatch(/^DATABASE_WRITE_URL/);
    expect(err.message).not.toContain('hunter2');
  });
});
