// Which buckets move where, in what batches: a pure function of the owners now and the target shard count.
import { SHARD_BUCKETS } from '../api/sharding.js';
import { targetOwners, validateOwners } from './map.js';

export interface PlannedBatch {
  /** The group the buckets leave: MAIN_OWNER (-1) or a shard index. */
  from: number;
  /** The group they go to. */
  to: number;
  /** Ascending; at most batchBuckets. */
  buckets: number[];
}

/**
 * The batches that take `ownersNow` to the map of `targetCount` shards (all on main for 0): only buckets whose
 * owner changes, each batch one source and one destination and at most `batchBuckets` buckets. Order is stable:
 * by source, then destination, then bucket. Planning again after the first batch moved gives the rest of the
 * same plan, so a pass may replan from the current owners after every flip.
 */
export function planResharding(
  ownersNow: readonly number[],
  targetCount: number,
  batchBuckets: number,
): PlannedBatch[] {
  if (!Number.isInteger(targetCount) || targetCount < 0 || targetCount > SHARD_BUCKETS) {
    throw new RangeError(
      `target shard count must be an integer from 0 to ${SHARD_BUCKETS}, got ${targetCount}`,
    );
  }
  if (!Number.isInteger(batchBuckets) || batchBuckets < 1) {
    throw new RangeError(`batchBuckets must be a positive integer, got ${batchBuckets}`);
  }
  validateOwners(ownersNow);
  const target = targetOwners(targetCount);
  const pairs = new Map<string, PlannedBatch>();
  ownersNow.forEach((from, bucket) => {
    const to = target[bucket]!;
    if (from === to) return;
    const key = `${from}>${to}`;
    let pair = pairs.get(key);
    if (!pair) pairs.set(key, (pair = { from, to, buckets: [] }));
    pair.buckets.push(bucket);
  });
  return [...pairs.values()]
    .sort((a, b) => a.from - b.from || a.to - b.to)
    .flatMap(({ from, to, buckets }) =>
      Array.from({ length: Math.ceil(buckets.length / batchBuckets) }, (_, i) => ({
        from,
        to,
        buckets: buckets.slice(i * batchBuckets, (i + 1) * batchBuckets),
      })),
    );
}

/** Buckets the plan moves. */
export const plannedBuckets = (plan: readonly PlannedBatch[]): number =>
  plan.reduce((n, b) => n + b.buckets.length, 0);
