import { describe, expect, it } from '@jest/globals';
// The operator's published shard map: the app must route exactly as the operator says.
import * as operator from '../../../src/api/sharding.js';
import { bucketForKey, fnv1a32, hashKey, shardForKey, shardMap } from './shards.js';

const BUCKETS = 1024;

describe('shard routing', () => {
  it('starts from FNV-1a 32-bit (reference vectors)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it.each([
    ['user:42', 599759890],
    [42, 686566589],
    ['', 2872998923],
    ['é', 2387039943],
  ])('hashes %j to %d (the values the operator pins)', (key, hash) => {
    expect(hashKey(key)).toBe(hash);
  });

  it('routes a key through its bucket and the map; a number routes like its decimal string', () => {
    const map = shardMap(3, BUCKETS);
    expect(map).toHaveLength(BUCKETS);
    for (let key = 1; key <= 1000; key++) {
      expect(shardForKey(key, 3, BUCKETS)).toBe(map[bucketForKey(key, BUCKETS)]);
      expect(shardForKey(String(key), 3, BUCKETS)).toBe(shardForKey(key, 3, BUCKETS));
    }
  });

  it('spreads customers over every shard', () => {
    const counts = [0, 0, 0, 0];
    for (let key = 1; key <= 4000; key++) counts[shardForKey(key, 4, BUCKETS)]!++;
    for (const n of counts) expect(n).toBeGreaterThan(800);
  });

  it('moves only the new shard’s buckets when a shard is added', () => {
    for (const n of [1, 2, 5]) {
      const before = shardMap(n, BUCKETS);
      const moved = shardMap(n + 1, BUCKETS).filter((s, b) => s !== before[b]);
      expect(moved.every((s) => s === n)).toBe(true);
    }
  });

  it('rejects impossible shard counts', () => {
    expect(() => shardForKey(1, 0, BUCKETS)).toThrow(/shard count/);
    expect(() => shardMap(8, 4)).toThrow(/shard count/);
    expect(() => hashKey(NaN)).toThrow(RangeError);
  });

  it('uses the number of buckets the operator publishes', () => {
    expect(operator.SHARD_BUCKETS).toBe(BUCKETS);
  });

  it.each([1, 2, 3, 4, 7, 16, 64])('agrees with the operator shard map for %i shards', (count) => {
    expect(shardMap(count, BUCKETS)).toEqual(operator.shardMap(count, BUCKETS));
    for (let key = 1; key <= 5000; key++) {
      const ours = shardForKey(key, count, BUCKETS);
      if (ours !== operator.shardForKey(key, count, BUCKETS)) {
        throw new Error(
          `customer ${key}: app says shard ${ours}, operator ${operator.shardForKey(key, count, BUCKETS)}`,
        );
      }
    }
    for (const key of [0, 2 ** 31, 2 ** 32 + 7, Number.MAX_SAFE_INTEGER]) {
      expect(shardForKey(key, count, BUCKETS)).toBe(operator.shardForKey(key, count, BUCKETS));
    }
  });
});
