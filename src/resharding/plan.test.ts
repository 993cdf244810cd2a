import { describe, expect, it } from '@jest/globals';
import { SHARD_BUCKETS, shardMap } from '../api/sharding.js';
import { targetOwners } from './map.js';
import { planResharding, plannedBuckets, type PlannedBatch } from './plan.js';

const allMain = () => new Array<number>(SHARD_BUCKETS).fill(-1);

/** Applies batches to owners, as the flips do. */
function apply(owners: readonly number[], plan: readonly PlannedBatch[]): number[] {
  const out = [...owners];
  for (const b of plan) for (const bucket of b.buckets) out[bucket] = b.to;
  return out;
}

const pairs = (plan: PlannedBatch[]) => [...new Set(plan.map((b) => `${b.from}>${b.to}`))];

describe('planResharding', () => {
  it.each([
    [
      '2 → 3 moves only the buckets shard 2 takes, from shards 0 and 1',
      shardMap(2),
      3,
      16,
      ['0>2', '1>2'],
      341,
    ],
    ['0 → 2 moves every bucket off main, half to each shard', allMain(), 2, 64, ['-1>0', '-1>1'], 1024],
    [
      '1 → 4 moves three quarters of shard 0 to the new shards',
      shardMap(1),
      4,
      100,
      ['0>1', '0>2', '0>3'],
      768,
    ],
    ['3 → 2 gives shard 2 back to shards 0 and 1', shardMap(3), 2, 16, ['2>0', '2>1'], 341],
    ['2 → 0 brings every bucket back to main', shardMap(2), 0, 512, ['0>-1', '1>-1'], 1024],
    ['already at the target moves nothing', shardMap(3), 3, 16, [], 0],
  ])('%s', (_name, owners, count, batch, expectedPairs, moved) => {
    const plan = planResharding(owners, count, batch);
    expect(pairs(plan)).toEqual(expectedPairs);
    expect(plannedBuckets(plan)).toBe(moved);
    expect(apply(owners, plan)).toEqual(targetOwners(count));
    for (const b of plan) {
      expect(b.buckets.length).toBeGreaterThan(0);
      expect(b.buckets.length).toBeLessThanOrEqual(batch);
      for (const bucket of b.buckets) expect([bucket, owners[bucket]]).toEqual([bucket, b.from]);
    }
  });

  it.each([
    [1, 341],
    [16, 22],
    [100, 4],
    [1024, 2],
  ])('batch size %i: 2 → 3 takes %i batches, each full but the last of a source', (batch, batches) => {
    const plan = planResharding(shardMap(2), 3, batch);
    expect(plan).toHaveLength(batches);
    for (const [i, b] of plan.entries()) {
      const lastOfPair = plan[i + 1]?.from !== b.from;
      if (!lastOfPair) expect(b.buckets).toHaveLength(batch);
    }
  });

  it('is stable: the same input gives the same batches, by source, destination, then ascending bucket', () => {
    const plan = planResharding(shardMap(2), 3, 16);
    expect(planResharding(shardMap(2), 3, 16)).toEqual(plan);
    const flat = plan.flatMap((b) => b.buckets.map((bucket) => [b.from, b.to, bucket]));
    const sorted = [...flat].sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!);
    expect(flat).toEqual(sorted);
  });

  it('planning again after each batch moved gives the rest of the same plan', () => {
    const plan = planResharding(allMain(), 3, 50);
    let owners = allMain();
    for (let i = 0; i < plan.length; i++) {
      expect(planResharding(owners, 3, 50)).toEqual(plan.slice(i));
      owners = apply(owners, [plan[i]!]);
    }
    expect(planResharding(owners, 3, 50)).toEqual([]);
  });

  it('mixed sources (a resharding stopped halfway, then a new target): each bucket from where it is now', () => {
    const half = apply(shardMap(2), planResharding(shardMap(2), 4, 1000).slice(0, 2));
    const plan = planResharding(half, 3, 1000);
    expect(apply(half, plan)).toEqual(shardMap(3));
    for (const b of plan) for (const bucket of b.buckets) expect(half[bucket]).toBe(b.from);
    expect(plan.some((b) => b.from === 3)).toBe(true);
  });

  it.each([
    [
      'a target above the buckets',
      () => planResharding(shardMap(2), 1025, 16),
      /target shard count .* got 1025/,
    ],
    ['a negative target', () => planResharding(shardMap(2), -1, 16), /got -1/],
    [
      'a batch of 0',
      () => planResharding(shardMap(2), 3, 0),
      /batchBuckets must be a positive integer, got 0/,
    ],
    ['owners of the wrong length', () => planResharding([0, 1], 3, 16), /2 entries, expected one per bucket/],
    [
      'an owner below -1',
      () =>
        planResharding(
          shardMap(2).map((o, b) => (b === 7 ? -2 : o)),
          3,
          16,
        ),
      /bucket 7 has owner -2/,
    ],
  ])('rejects %s', (_name, call, message) => {
    expect(call).toThrow(message);
  });
});
