// The data of one batch: copy its rows from the source group's primary to the destination's, verify them on the
// destination's primary and replicas, and, at the end of a resharding, delete moved rows from the sources.
import type { SqlClient } from '../replication/sql.js';
import type { Batch } from './progress.js';
import type { Servers } from './servers.js';
import {
  checksum,
  type Checksum,
  createTable,
  deleteChunk,
  deleteRows,
  inTransaction,
  insertRows,
  isKeyConflict,
  sameChecksum,
  selectChunk,
  setFence,
  shardedTables,
  showCreateTable,
  tableShape,
  type TableShape,
} from './sql.js';

/** A copy stopped by a key the destination already holds (rows written before the groups' key ranges). */
export class KeyConflict extends Error {
  constructor(
    readonly table: string,
    cause: unknown,
  ) {
    super(
      `table ${table}: a row of the batch has a key the destination already holds (${(cause as Error).message})`,
      {
        cause,
      },
    );
    this.name = 'KeyConflict';
  }
}

export interface CopyOptions {
  database: string;
  chunkRows: number;
}

interface Table {
  name: string;
  shape: TableShape;
  /** False for a table only the destination has: the source holds none of its rows. */
  onSource: boolean;
}

const NONE: Checksum = { rows: 0, xor: '0', sum: '0' };

/** The sharded tables of source and destination, shaped as the source has them (else as the destination). */
async function batchTables(source: SqlClient, dest: SqlClient, database: string): Promise<Table[]> {
  const [onSource, onDest] = await Promise.all([
    shardedTables(source, database),
    shardedTables(dest, database),
  ]);
  const names = [...new Set([...onSource, ...onDest])].sort();
  const tables: Table[] = [];
  for (const name of names) {
    const here = onSource.includes(name);
    tables.push({ name, shape: await tableShape(here ? source : dest, database, name), onSource: here });
  }
  return tables;
}

/**
 * Copies the batch: missing tables created on the destination from the source's definition, the destination's
 * fence rows `incoming`, then per table one destination transaction that deletes what it holds of the batch and
 * inserts the source's rows. Idempotent. Returns the rows copied; throws KeyConflict (the table's transaction
 * rolled back) when a key collides.
 */
export async function copyBatch(servers: Servers, batch: Batch, opts: CopyOptions): Promise<number> {
  const source = await servers.primary(batch.from);
  const dest = await servers.primary(batch.to);
  const onSource = await shardedTables(source, opts.database);
  const onDest = new Set(await shardedTables(dest, opts.database));
  for (const name of onSource)
    if (!onDest.has(name)) await createTable(dest, await showCreateTable(source, name));
  await setFence(dest, batch.buckets, 'incoming');
  let copied = 0;
  for (const { name, shape, onSource: fromSource } of await batchTables(source, dest, opts.database)) {
    await inTransaction(dest, async () => {
      await deleteRows(dest, name, batch.buckets);
      let after: unknown[] | undefined;
      while (fromSource) {
        const chunk = await selectChunk(source, name, shape, batch.buckets, after, opts.chunkRows);
        try {
          await insertRows(dest, name, shape, chunk.rows);
        } catch (e) {
          if (isKeyConflict(e)) throw new KeyConflict(name, e);
          throw e;
        }
        copied += chunk.rows.length;
        if (!chunk.next) break;
        after = chunk.next;
      }
    });
  }
  return copied;
}

/** Takes the batch's rows off the destination again (a rolled-back batch) and its fence rows with them. */
export async function uncopyBatch(servers: Servers, batch: Batch, database: string): Promise<void> {
  const dest = await servers.primary(batch.to);
  for (const name of await shardedTables(dest, database)) await deleteRows(dest, name, batch.buckets);
}

export type Verdict =
  | { ok: true; rows: number }
  | { ok: false; reason: 'VerifyMismatch' | 'ReplicaLag'; table?: string; message: string };

export interface VerifyOptions {
  database: string;
  timeoutMs: number;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

/**
 * Count and checksum of every sharded table's batch rows, equal on the source primary, the destination primary,
 * and each destination replica (polled until it has applied the copy, up to timeoutMs).
 */
export async function verifyBatch(servers: Servers, batch: Batch, opts: VerifyOptions): Promise<Verdict> {
  const source = await servers.primary(batch.from);
  const dest = await servers.primary(batch.to);
  const expected: { name: string; shape: TableShape; sum: Checksum }[] = [];
  for (const { name, shape, onSource } of await batchTables(source, dest, opts.database)) {
    const [want, got] = await Promise.all([
      onSource ? checksum(source, name, shape, batch.buckets) : NONE,
      checksum(dest, name, shape, batch.buckets),
    ]);
    if (!sameChecksum(want, got)) {
      const message = `table ${name}: the destination holds ${got.rows} rows of the batch, the source ${want.rows}${want.rows === got.rows ? ' (checksums differ)' : ''}`;
      return { ok: false, reason: 'VerifyMismatch', table: name, message };
    }
    expected.push({ name, shape, sum: want });
  }
  const deadline = opts.now() + opts.timeoutMs;
  for (const replica of servers.replicas(batch.to)) {
    let pending = expected;
    let last = '';
    for (;;) {
      try {
        const client = await replica.client();
        const still: typeof expected = [];
        for (const t of pending) {
          if (!sameChecksum(await checksum(client, t.name, t.shape, batch.buckets), t.sum)) still.push(t);
        }
        pending = still;
        last = pending.length ? `table ${pending[0]!.name} differs` : '';
      } catch (e) {
        last = (e as Error).message;
      }
      if (pending.length === 0) break;
      if (opts.now() >= deadline) {
        const message = `${replica.name} did not match the copy within ${opts.timeoutMs} ms: ${last}`;
        return {
          ok: false,
          reason: 'ReplicaLag',
          message,
          ...(pending[0] ? { table: pending[0].name } : {}),
        };
      }
      await opts.sleep(200);
    }
  }
  return { ok: true, rows: expected.reduce((n, t) => n + t.sum.rows, 0) };
}

/** Deletes the rows of `buckets` from every sharded table of a group, a chunk at a time. Returns rows deleted. */
export async function deleteMovedRows(
  group: SqlClient,
  buckets: readonly number[],
  opts: CopyOptions,
): Promise<number> {
  let deleted = 0;
  for (const name of await shardedTables(group, opts.database)) {
    for (;;) {
      const n = await deleteChunk(group, name, buckets, opts.chunkRows);
      deleted += n;
      if (n < opts.chunkRows) break;
    }
  }
  return deleted;
}
