// Where a customer's orders are read and written: the owner of the customer's bucket in the shard map (the main
// database, or shard i of the binding's DATABASE_SHARDS). A write follows the contract: it waits while the map
// lists its bucket as moving, and in its own transaction it first checks the owner's fence row under a shared
// lock; a fence that is not `owned` (the map in hand was stale) rolls the transaction back, the map is read again
// and the write retried, with backoff, for up to 5 s; then the answer is a 503.
import { setTimeout as sleep } from 'node:timers/promises';
import { Unavailable } from './availability.js';
import { CHECK_FENCE_SQL, ER_NO_SUCH_TABLE, MAIN_OWNER, OWNED, WRITE_RETRY_DEADLINE_MS } from './contract.js';
import type { Database, Databases, ReadRoute, Session } from './db.js';
import type { ShardMap, ShardMapClient } from './shard-map.js';
import { bucketForKey } from './shards.js';

/** The group that owns a bucket, as this pod can reach it. */
export type Placement =
  | { kind: 'main' }
  | { kind: 'shard'; index: number }
  /** A shard the pod has no URL for (its binding predates the shard). */
  | { kind: 'unknown'; index: number };

/** Where `bucket` lives by `map`, for a pod whose binding lists `shardCount` shards. */
export function placementOf(map: ShardMap, bucket: number, shardCount: number): Placement {
  const owner = map.owners[bucket];
  if (owner === undefined) throw new RangeError(`bucket ${bucket} is not in the shard map`);
  if (owner === MAIN_OWNER) return { kind: 'main' };
  return owner < shardCount ? { kind: 'shard', index: owner } : { kind: 'unknown', index: owner };
}

export interface OrderTarget {
  bucket: number;
  /** The shard that holds the bucket; null for the main database. */
  shard: number | null;
  write: Database;
  read: ReadRoute;
}

/** The owner's fence row did not say `owned`: the write must not happen there. */
export class FenceClosed extends Error {
  constructor(
    readonly bucket: number,
    readonly state: string | undefined,
  ) {
    super(`bucket ${bucket} is ${state ?? 'not held'} here`);
    this.name = 'FenceClosed';
  }
}

/**
 * The contract's check, first in a write transaction: the fence row of `bucket` must say `owned`. Where the
 * fence table does not exist (an operator from before resharding) the write goes on as it always did.
 */
export async function checkFence(tx: Session, bucket: number): Promise<void> {
  let rows: { state: string }[];
  try {
    rows = await tx.rows<{ state: string }>(CHECK_FENCE_SQL, [bucket]);
  } catch (err) {
    if ((err as { errno?: unknown }).errno === ER_NO_SUCH_TABLE) return;
    throw err;
  }
  if (rows[0]?.state !== OWNED) throw new FenceClosed(bucket, rows[0]?.state);
}

export interface OrderRouterOptions {
  buckets: number;
  /** How long a write keeps retrying a moving bucket (default 5 s). */
  writeDeadlineMs?: number;
}

export class OrderRouter {
  private readonly buckets: number;
  private readonly writeDeadlineMs: number;

  constructor(
    private readonly dbs: Databases,
    private readonly maps: ShardMapClient,
    { buckets, writeDeadlineMs = WRITE_RETRY_DEADLINE_MS }: OrderRouterOptions,
  ) {
    this.buckets = buckets;
    this.writeDeadlineMs = writeDeadlineMs;
  }

  bucketOf(customer: number): number {
    return bucketForKey(customer, this.buckets);
  }

  /** The target of `bucket` by `map`; a shard unknown to this pod is asked of a new map, then a 503. */
  private async targetIn(map: ShardMap, bucket: number): Promise<{ map: ShardMap; target: OrderTarget }> {
    let placement = placementOf(map, bucket, this.dbs.shards.length);
    if (placement.kind === 'unknown') {
      map = await this.maps.refresh();
      placement = placementOf(map, bucket, this.dbs.shards.length);
    }
    if (placement.kind === 'unknown') {
      throw new Unavailable(
        `shard-${placement.index}`,
        `owns bucket ${bucket} but this pod's binding lists ${this.dbs.shards.length} shards (it predates the shard)`,
      );
    }
    const shard = placement.kind === 'shard' ? placement.index : null;
    const group = this.dbs.group(shard ?? MAIN_OWNER);
    return { map, target: { bucket, shard, ...group } };
  }

  /** Where the customer's orders are now, by a map read at most SHARD_MAP_MAX_AGE_MS ago. */
  async target(customer: number): Promise<OrderTarget> {
    return (await this.targetIn(await this.maps.current(), this.bucketOf(customer))).target;
  }

  /**
   * Runs `fn` in a transaction on the primary that owns the customer's bucket, after the fence check. Waits
   * while the bucket is moving and retries where the fence is not `owned`, until the deadline (then a 503).
   */
  async write<T>(customer: number, fn: (tx: Session, target: OrderTarget) => Promise<T>): Promise<T> {
    const bucket = this.bucketOf(customer);
    const until = performance.now() + this.writeDeadlineMs;
    let map = await this.maps.current();
    let delayMs = 10;
    let last = '';
    for (;;) {
      const found = await this.targetIn(map, bucket);
      map = found.map;
      if (map.moving.has(bucket)) {
        last = `moving (map version ${map.version})`;
      } else {
        try {
          return await found.target.write.transaction(async (tx) => {
            await checkFence(tx, bucket);
            return fn(tx, found.target);
          });
        } catch (err) {
          if (!(err instanceof FenceClosed)) throw err;
          last = `${err.state ?? 'not held'} on ${found.target.write.target} (map version ${map.version})`;
        }
      }
      const left = until - performance.now();
      if (left <= 0) {
        throw new Unavailable(
          `bucket-${bucket}`,
          `its orders are being moved (${last}) for more than ${this.writeDeadlineMs} ms`,
        );
      }
      await sleep(Math.min(delayMs, left));
      delayMs = Math.min(delayMs * 2, 200);
      map = await this.maps.refresh();
    }
  }
}
