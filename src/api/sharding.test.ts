import { describe, expect, it } from '@jest/globals';
import { bucketForKey, hashKey, SHARD_BUCKETS, shardForKey, shardMap } from './sharding.js';

const counts = (n: number, keys: Iterable<string | number>) => {
  const perShard = new Array<number>(n).fill(0);
  for (const key of keys) perShard[shardForKey(key, n)]!++;
  return perShard;
};
const keys = (n: number) => Array.from({ length: n }, (_, i) => `order:${i}`);
const maxDeviation = (perShard: number[], total: number) =>
  Math.max(...perShard.map((c) => Math.abs(c - total / perShard.length) / (total / perShard.length)));

describe('hashKey', () => {
  // Pinned: the app and the operator must agree forever; a change here moves every key to another shard.
  it.each([
    ['user:42', 599759890],
    [42, 686566589],
    ['', 2872998923],
    ['é', 2387039943],
  ])('hashes %j to %d', (key, hash) => {
    expect(hashKey(key)).toBe(hash);
  });

  it('hashes a number like its decimal string', () => {
    expect(hashKey(1234)).toBe(hashKey('1234'));
  });

  it.each([NaN, Infinity])('refuses the non-finite number %p', (key) => {
    expect(() => hashKey(key)).toThrow(/finite number/);
  });
});

describe('shardMap', () => {
  it('publishes 1024 buckets', () => {
    expect(SHARD_BUCKETS).toBe(1024);
    expect(shardMap(3)).toHaveLength(1024);
  });

  it.each(Array.from({ length: 64 }, (_, i) => i + 1))(
    'gives each of %d shards floor or ceil of buckets / count',
    (n) => {
      const sizes = counts(n, []);
      for (const shard of shardMap(n)) sizes[shard]!++;
      expect(Math.min(...sizes)).toBe(Math.floor(SHARD_BUCKETS / n));
      expect(Math.max(...sizes)).toBe(Math.ceil(SHARD_BUCKETS / n));
    },
  );

  it.each([1, 2, 3, 7, 31, 63])('growing from %d shards moves buckets only to the new shard', (n) => {
    const before = shardMap(n);
    const after = shardMap(n + 1);
    const moved = after.map((s, b) => [b, s] as const).filter(([b, s]) => s !== before[b]);
    expect(moved.every(([, s]) => s === n)).toBe(true);
    expect(moved).toHaveLength(Math.floor(SHARD_BUCKETS / (n + 1)));
  });

  it('returns a copy the caller may change without touching later answers', () => {
    const map = shardMap(4);
    map.fill(9);
    expect(shardMap(4)).not.toContain(9);
  });

  it.each([
    [0, SHARD_BUCKETS, /shard count must be an integer from 1 to 1024/],
    [2.5, SHARD_BUCKETS, /shard count/],
    [1025, SHARD_BUCKETS, /shard count/],
    [2, 0, /buckets must be a positive integer/],
  ])('refuses %p shards over %p buckets', (n, buckets, message) => {
    expect(() => shardMap(n, buckets)).toThrow(message);
  });
});

describe('shardForKey', () => {
  it('routes a key to the same shard every time', () => {
    const first = keys(1000).map((k) => shardForKey(k, 5));
    expect(keys(1000).map((k) => shardForKey(k, 5))).toEqual(first);
  });

  it('routes through the bucket and the map', () => {
    for (const key of keys(100)) expect(shardForKey(key, 6)).toBe(shardMap(6)[bucketForKey(key)]);
  });

  it.each([2, 3, 4, 5, 6, 7, 8])('spreads 10,000 keys over %d shards within 10%% of even', (n) => {
    expect(maxDeviation(counts(n, keys(10_000)), 10_000)).toBeLessThan(0.1);
  });

  it.each([16, 32, 64])('spreads 100,000 keys over %d shards within 10%% of even', (n) => {
    expect(maxDeviation(counts(n, keys(100_000)), 100_000)).toBeLessThan(0.1);
  });

  it('spreads sequential integer ids too', () => {
    expect(
      maxDeviation(
        counts(
          4,
          Array.from({ length: 10_000 }, (_, i) => i),
        ),
        10_000,
      ),
    ).toBeLessThan(0.1);
  });

  it('honours a custom bucket count', () => {
    expect(shardForKey('k', 2, 2)).toBe(bucketForKey('k', 2));
  });
});
