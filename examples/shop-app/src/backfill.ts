// Rows of orders and order_items written before `shard_bucket` existed get it at start: orders from their
// customer's bucket, items from their order. Chunked, idempotent, safe to run from every pod at once. Each bucket's
// rows are filled in a transaction that first checks the bucket's fence like any write: rows of a bucket this
// group does not own (being moved, or moved away) are left alone and counted.
import type { Database } from './db.js';
import { checkFence, FenceClosed } from './routing.js';
import { bucketForKey } from './shards.js';

export interface BackfillResult {
  orders: number;
  items: number;
  /** Rows left NULL because this group does not own their bucket. */
  skipped: number;
}

function groupBy<T>(rows: T[], key: (row: T) => number): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const row of rows) {
    const k = key(row);
    groups.set(k, [...(groups.get(k) ?? []), row]);
  }
  return groups;
}

/** `sql` for the rows of `bucket`, in a transaction behind its fence; false when the fence is not `owned`. */
async function fenced(db: Database, bucket: number, sql: string, params: unknown[]): Promise<number | false> {
  try {
    return await db.transaction(async (tx) => {
      await checkFence(tx, bucket);
      return (await tx.exec(sql, params)).affectedRows;
    });
  } catch (err) {
    if (err instanceof FenceClosed) return false;
    throw err;
  }
}

/** Fills shard_bucket where it is NULL on one primary. */
export async function backfillShardBuckets(
  db: Database,
  buckets: number,
  chunk = 1_000,
): Promise<BackfillResult> {
  const result: BackfillResult = { orders: 0, items: 0, skipped: 0 };
  for (let after = 0; ;) {
    const rows = await db.rows<{ id: number; customer: number | string }>(
      `SELECT id, customer_id AS customer FROM orders
        WHERE shard_bucket IS NULL AND id > ? ORDER BY id LIMIT ?`,
      [after, chunk],
    );
    for (const [bucket, group] of groupBy(rows, (r) => bucketForKey(r.customer, buckets))) {
      const ids = group.map((r) => r.id);
      const sql = 'UPDATE orders SET shard_bucket = ? WHERE id IN (?) AND shard_bucket IS NULL';
      const filled = await fenced(db, bucket, sql, [bucket, ids]);
      if (filled === false) result.skipped += ids.length;
      else result.orders += filled;
    }
    if (rows.length < chunk) break;
    after = Number(rows[rows.length - 1]!.id);
  }
  for (let after = 0; ;) {
    const rows = await db.rows<{ id: number; bucket: number }>(
      `SELECT DISTINCT oi.order_id AS id, o.shard_bucket AS bucket
         FROM order_items oi JOIN orders o ON o.id = oi.order_id
        WHERE oi.shard_bucket IS NULL AND o.shard_bucket IS NOT NULL AND oi.order_id > ?
        ORDER BY oi.order_id LIMIT ?`,
      [after, chunk],
    );
    for (const [bucket, group] of groupBy(rows, (r) => r.bucket)) {
      const ids = group.map((r) => r.id);
      const sql = 'UPDATE order_items SET shard_bucket = ? WHERE order_id IN (?) AND shard_bucket IS NULL';
      const filled = await fenced(db, bucket, sql, [bucket, ids]);
      if (filled === false) result.skipped += ids.length;
      else result.items += filled;
    }
    if (rows.length < chunk) break;
    after = Number(rows[rows.length - 1]!.id);
  }
  return result;
}
