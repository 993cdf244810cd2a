// The data of one batch: copy its rows from the source group's primary to the destination's, verify them on the
// destination's primary and replicas, and, at the end of a resharding, delete moved rows from the sources.
import type { Row, SqlClient } from '../replication/sql.js';
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
  lockFence,
  sameChecksum,
  rowDigests,
  selectAll,
  selectByKeys,
  deleteByKeys,
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

/** Inserts rows on the destination; a duplicate key is a KeyConflict naming the table. */
async function insert(dest: SqlClient, name: string, shape: TableShape, rows: Row[]): Promise<void> {
  try {
    await insertRows(dest, name, shape, rows);
  } catch (e) {
    if (isKeyConflict(e)) throw new KeyConflict(name, e);
    throw e;
  }
}

const chunks = <T>(list: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(list.length / size) }, (_, i) => list.slice(i * size, (i + 1) * size));

/** Copies the source's rows with these keys (all of the batch's for a table without a key), a chunk at a time. */
async function copyRows(
  source: SqlClient,
  dest: SqlClient,
  table: Table,
  batch: Batch,
  keys: unknown[][],
  size: number,
) {
  if (table.shape.key.length === 0) {
    const rows = await selectAll(source, table.name, table.shape, batch.buckets);
    for (const part of chunks(rows, size)) await insert(dest, table.name, table.shape, part);
    return rows.length;
  }
  for (const part of chunks(keys, size)) {
    await insert(dest, table.name, table.shape, await selectByKeys(source, table.name, table.shape, part));
  }
  return keys.length;
}

/**
 * In a destination transaction, before its rows change: throws unless every fence row of the batch there says
 * `incoming` (locked until the transaction ends, so a flip waits for it). A pass whose progress is stale (another
 * pass has flipped the batch since) must not replace rows the destination owns and may have taken writes to.
 */
async function expectIncoming(dest: SqlClient, buckets: readonly number[]): Promise<void> {
  const states = await lockFence(dest, buckets);
  const other = buckets.find((b) => states.get(b) !== 'incoming');
  if (other !== undefined) {
    throw new Error(
      `the destination's fence of bucket ${other} says ${states.get(other) ?? 'nothing'}, not incoming: another pass has moved the batch on`,
    );
  }
}

/** Replaces the destination's rows of the batch with the source's, in one destination transaction. */
async function copyTable(source: SqlClient, dest: SqlClient, table: Table, batch: Batch, size: number) {
  const keys =
    table.onSource && table.shape.key.length > 0
      ? (await rowDigests(source, table.name, table.shape, batch.buckets)).map((d) => d.key)
      : [];
  return inTransaction(dest, async () => {
    await expectIncoming(dest, batch.buckets);
    await deleteRows(dest, table.name, batch.buckets);
    return table.onSource ? copyRows(source, dest, table, batch, keys, size) : 0;
  });
}

/**
 * Copies the batch while the source still takes its writes (no pause): missing tables created on the
 * destination from the source's definition, the destination's fence rows `incoming`, then per table the
 * source's rows replace the destination's. Returns the rows copied; throws KeyConflict when a key collides.
 */
export async function copyBatch(servers: Servers, batch: Batch, opts: CopyOptions): Promise<number> {
  const source = await servers.primary(batch.from);
  const dest = await servers.primary(batch.to);
  const onSource = await shardedTables(source, opts.database);
  const onDest = new Set(await shardedTables(dest, opts.database));
  for (const name of onSource) {
    if (!onDest.has(name)) await createTable(dest, await showCreateTable(source, name));
  }
  // Not where the destination owns them: a pass whose progress is stale must not take them back (see expectIncoming).
  await inTransaction(dest, async () => {
    const states = await lockFence(dest, batch.buckets);
    const owned = batch.buckets.find((b) => states.get(b) === 'owned');
    if (owned !== undefined) {
      throw new Error(
        `the destination owns bucket ${owned} (its fence says owned): another pass has moved the batch on`,
      );
    }
    await setFence(dest, batch.buckets, 'incoming');
  });
  let copied = 0;
  for (const table of await batchTables(source, dest, opts.database)) {
    copied += await copyTable(source, dest, table, batch, opts.chunkRows);
  }
  return copied;
}

/**
 * Brings the destination's copy up to the source's once the source is fenced: per table, the key and CRC32 of
 * every row of the batch on both sides (one unsorted read each), and only the rows that differ (written,
 * changed or deleted since the precopy) deleted and copied again, in one destination transaction. A table
 * without a primary key is copied whole. So the write pause holds two reads of the batch and the rows that
 * changed, not a copy of all of them. Returns the rows copied again; throws KeyConflict.
 */
export async function syncBatch(servers: Servers, batch: Batch, opts: CopyOptions): Promise<number> {
  const source = await servers.primary(batch.from);
  const dest = await servers.primary(batch.to);
  let copied = 0;
  for (const table of await batchTables(source, dest, opts.database)) {
    const { name, shape } = table;
    if (shape.key.length === 0 || !table.onSource) {
      copied += await copyTable(source, dest, table, batch, opts.chunkRows);
      continue;
    }
    const [want, got] = await Promise.all([
      rowDigests(source, name, shape, batch.buckets),
      rowDigests(dest, name, shape, batch.buckets),
    ]);
    const id = (key: unknown[]) => JSON.stringify(key);
    const wanted = new Map(want.map((d) => [id(d.key), d.crc]));
    const held = new Map(got.map((d) => [id(d.key), d.crc]));
    const stale = got.filter((d) => wanted.get(id(d.key)) !== d.crc).map((d) => d.key);
    const missing = want.filter((d) => held.get(id(d.key)) !== d.crc).map((d) => d.key);
    if (stale.length === 0 && missing.length === 0) continue;
    await inTransaction(dest, async () => {
      await expectIncoming(dest, batch.buckets);
      for (const part of chunks(stale, opts.chunkRows)) await deleteByKeys(dest, name, shape, part);
      copied += await copyRows(source, dest, table, batch, missing, opts.chunkRows);
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
