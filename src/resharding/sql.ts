// Every statement the mover sends, as functions of a client (a real connection in a pass, a fake in unit tests).
// Only SQL that MySQL 8.4 and MariaDB both accept; values go in as parameters, names as quoted identifiers.
import type { Row, SqlClient } from '../replication/sql.js';
import {
  BUCKET_FENCE_DDL,
  BUCKET_FENCE_TABLE,
  type BucketState,
  OPERATOR_TABLE_PREFIX,
  SHARD_BUCKET_COLUMN,
  SHARD_MAP_DDL,
  SHARD_MAP_TABLE,
} from './contract.js';
import type { ShardMapColumns } from './map.js';

/** A quoted identifier (a backtick inside is doubled). */
export const ident = (name: string): string => `\`${name.replace(/`/g, '``')}\``;

const marks = (n: number): string => new Array<string>(n).fill('?').join(', ');
const inBuckets = (buckets: readonly number[]) =>
  `${ident(SHARD_BUCKET_COLUMN)} IN (${marks(buckets.length)})`;

/**
 * The session every mover connection runs in: the app database; UTC, so TIMESTAMP values copy and compare the
 * same on every server; NO_AUTO_VALUE_ON_ZERO, so a copied id 0 stays 0; no foreign key checks, so tables copy
 * and delete in any order (a moved bucket's rows move together).
 */
export async function openSession(c: SqlClient, database: string): Promise<void> {
  await c.query(`USE ${ident(database)}`);
  await c.query(
    "SET SESSION time_zone = '+00:00', sql_mode = 'NO_AUTO_VALUE_ON_ZERO', foreign_key_checks = 0",
  );
}

/** The server's clock now, epoch ms. */
export async function dbNow(c: SqlClient): Promise<number> {
  const [row] = await c.query('SELECT ROUND(UNIX_TIMESTAMP(NOW(3)) * 1000) AS now');
  return Number(row!.now);
}

export const begin = (c: SqlClient) => c.query('START TRANSACTION');
export const commit = (c: SqlClient) => c.query('COMMIT');
export const rollback = (c: SqlClient) => c.query('ROLLBACK');

/** Runs `fn` in a transaction; rolls back (and rethrows) when it fails. */
export async function inTransaction<T>(c: SqlClient, fn: () => Promise<T>): Promise<T> {
  await begin(c);
  try {
    const out = await fn();
    await commit(c);
    return out;
  } catch (e) {
    await rollback(c).catch(() => {});
    throw e;
  }
}

const isCode = (e: unknown, ...codes: string[]) => codes.includes((e as { code?: string }).code ?? '');

// ---- the map (main primary) ----

const MAP_COLUMNS = 'version, owners, moving, progress';

/** The map row; undefined when the table or the row does not exist. `forUpdate` locks it (in a transaction). */
export async function readMap(c: SqlClient, forUpdate = false): Promise<Row | undefined> {
  try {
    const rows = await c.query(
      `SELECT ${MAP_COLUMNS} FROM ${ident(SHARD_MAP_TABLE)} WHERE id = 1${forUpdate ? ' FOR UPDATE' : ''}`,
    );
    return rows[0];
  } catch (e) {
    if (isCode(e, 'ER_NO_SUCH_TABLE')) return undefined;
    throw e;
  }
}

/**
 * Creates the map with its row in one step apps can see: the table is built under another name and renamed,
 * so an app never finds the table without its row (it would have no map at all, not even the static one).
 */
export async function createMap(c: SqlClient, map: ShardMapColumns): Promise<void> {
  const staging = `${SHARD_MAP_TABLE}_new`;
  await c.query(`DROP TABLE IF EXISTS ${ident(staging)}`);
  await c.query(SHARD_MAP_DDL(staging));
  await c.query(`INSERT INTO ${ident(staging)} (id, ${MAP_COLUMNS}) VALUES (1, ?, ?, ?, ?)`, [
    map.version,
    map.owners,
    map.moving,
    map.progress,
  ]);
  try {
    await c.query(`RENAME TABLE ${ident(staging)} TO ${ident(SHARD_MAP_TABLE)}`);
  } catch (e) {
    // Another pass created it first: its map stands.
    await c.query(`DROP TABLE IF EXISTS ${ident(staging)}`);
    if (!isCode(e, 'ER_TABLE_EXISTS_ERROR')) throw e;
  }
}

export async function writeMap(c: SqlClient, map: ShardMapColumns): Promise<void> {
  await c.query(
    `UPDATE ${ident(SHARD_MAP_TABLE)} SET version = ?, owners = ?, moving = ?, progress = ? WHERE id = 1`,
    [map.version, map.owners, map.moving, map.progress],
  );
}

// ---- the fence (every group's primary) ----

export const ensureFenceTable = (c: SqlClient) => c.query(BUCKET_FENCE_DDL);

/** `owned` rows for `buckets` where the group has none (a row in another state is left as it is). */
export async function insertOwned(c: SqlClient, buckets: readonly number[]): Promise<void> {
  if (buckets.length === 0) return;
  await c.query(
    `INSERT IGNORE INTO ${ident(BUCKET_FENCE_TABLE)} (bucket, state) VALUES ${buckets.map(() => "(?, 'owned')").join(', ')}`,
    [...buckets],
  );
}

/**
 * Sets the buckets' rows to `state` (creating missing ones). Takes each row's exclusive lock, so it waits for
 * every write transaction that passed the apps' fence check (their shared lock) to end.
 */
export async function setFence(c: SqlClient, buckets: readonly number[], state: BucketState): Promise<void> {
  await c.query(
    `INSERT INTO ${ident(BUCKET_FENCE_TABLE)} (bucket, state) VALUES ${buckets.map(() => '(?, ?)').join(', ')} ON DUPLICATE KEY UPDATE state = ?`,
    [...buckets.flatMap((b) => [b, state]), state],
  );
}

/** The state of each of the buckets' fence rows (none for a missing row), locked until the transaction ends. */
export async function lockFence(c: SqlClient, buckets: readonly number[]): Promise<Map<number, string>> {
  const rows = await c.query(
    `SELECT bucket, state FROM ${ident(BUCKET_FENCE_TABLE)} WHERE bucket IN (${marks(buckets.length)}) FOR UPDATE`,
    [...buckets],
  );
  return new Map(rows.map((r) => [Number(r.bucket), String(r.state)]));
}

export async function deleteFence(c: SqlClient, buckets: readonly number[]): Promise<void> {
  await c.query(`DELETE FROM ${ident(BUCKET_FENCE_TABLE)} WHERE bucket IN (${marks(buckets.length)})`, [
    ...buckets,
  ]);
}

/**
 * Buckets this group holds rows of without owning them: `moved` (they moved away; the rows stay until the
 * drain ends) and `incoming` (a copy that was planned away or not rolled back to the end).
 */
export async function strayBuckets(c: SqlClient): Promise<number[]> {
  const rows = await c.query(
    `SELECT bucket FROM ${ident(BUCKET_FENCE_TABLE)} WHERE state IN ('moved', 'incoming') ORDER BY bucket`,
  );
  return rows.map((r) => Number(r.bucket));
}

/** Session lock wait for the fence's UPDATE: a write in flight holding it longer fails the step. */
export const setLockWait = (c: SqlClient, seconds: number) =>
  c.query('SET SESSION innodb_lock_wait_timeout = ?', [seconds]);

// ---- the sharded tables ----

/**
 * Base tables of the database with a shard_bucket column, the operator's own excluded; by name. `nullable`:
 * only those whose column accepts NULL (the others cannot hold a row without a bucket).
 */
export async function shardedTables(c: SqlClient, database: string, nullable = false): Promise<string[]> {
  const rows = await c.query(
    `SELECT t.TABLE_NAME AS name FROM information_schema.TABLES t
       JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME
      WHERE t.TABLE_SCHEMA = ? AND t.TABLE_TYPE = 'BASE TABLE' AND c.COLUMN_NAME = ?
        AND LEFT(t.TABLE_NAME, ?) <> ?${nullable ? " AND c.IS_NULLABLE = 'YES'" : ''}
      ORDER BY t.TABLE_NAME`,
    [database, SHARD_BUCKET_COLUMN, OPERATOR_TABLE_PREFIX.length, OPERATOR_TABLE_PREFIX],
  );
  return rows.map((r) => String(r.name));
}

/**
 * The table's rows without a bucket (shard_bucket NULL), counted up to `cap`: the column's index finds them
 * (`IS NULL` is a range of it) and the LIMIT bounds the work however many there are.
 */
export async function unbucketedRows(c: SqlClient, table: string, cap: number): Promise<number> {
  const [row] = await c.query(
    `SELECT COUNT(*) AS n FROM (SELECT 1 FROM ${ident(table)} WHERE ${ident(SHARD_BUCKET_COLUMN)} IS NULL LIMIT ${Number(cap)}) AS unbucketed`,
  );
  return Number(row?.n ?? 0);
}

export interface Column {
  name: string;
  /** information_schema DATA_TYPE, lower case. */
  type: string;
}

export interface TableShape {
  /** The stored columns (generated ones are computed again on insert), in table order. */
  columns: Column[];
  /** The primary key's columns in key order; empty without one. */
  key: string[];
}

/** Spatial values do not survive a copy through the client; a sharded table with one is refused. */
const SPATIAL =
  /^(geometry|point|linestring|polygon|multipoint|multilinestring|multipolygon|geometrycollection|geomcollection)$/;

export async function tableShape(c: SqlClient, database: string, table: string): Promise<TableShape> {
  // GENERATION_EXPRESSION: '' on MySQL, NULL on MariaDB for a stored column.
  const cols = await c.query(
    `SELECT COLUMN_NAME AS name, LOWER(DATA_TYPE) AS type FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COALESCE(GENERATION_EXPRESSION, '') = ''
      ORDER BY ORDINAL_POSITION`,
    [database, table],
  );
  const key = await c.query(
    `SELECT COLUMN_NAME AS name FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX`,
    [database, table],
  );
  const columns = cols.map((r) => ({ name: String(r.name), type: String(r.type) }));
  const spatial = columns.find((col) => SPATIAL.test(col.type));
  if (spatial)
    throw new Error(`table ${table}: column ${spatial.name} is ${spatial.type}, which the mover cannot copy`);
  return { columns, key: key.map((r) => String(r.name)) };
}

/** The table's CREATE TABLE, without its AUTO_INCREMENT counter (each group keeps its own). */
export async function showCreateTable(c: SqlClient, table: string): Promise<string> {
  const [row] = await c.query(`SHOW CREATE TABLE ${ident(table)}`);
  const ddl = String(row?.['Create Table'] ?? '');
  if (!ddl) throw new Error(`SHOW CREATE TABLE ${table} returned no definition`);
  return ddl.replace(/ AUTO_INCREMENT=\d+/, '');
}

export const createTable = (c: SqlClient, ddl: string) => c.query(ddl);

// ---- copy, verify, delete ----

/**
 * Types read as text so they reinsert exactly: the driver would turn them into JS numbers, Dates or objects
 * (MariaDB's JSON is a LONGTEXT that the driver parses, so text columns are cast too).
 */
const AS_TEXT =
  /^(decimal|float|double|real|date|datetime|timestamp|time|year|json|tinytext|text|mediumtext|longtext)$/;

const selectExpr = (col: Column) =>
  AS_TEXT.test(col.type)
    ? `CAST(src.${ident(col.name)} AS CHAR) AS ${ident(col.name)}`
    : `src.${ident(col.name)}`;

const keyTuple = (shape: TableShape) => `(${shape.key.map((k) => `src.${ident(k)}`).join(', ')})`;

/** The CRC32 of a row: per column whether it is NULL and its bytes (CONCAT_WS skips NULLs). */
const rowCrc = (shape: TableShape, alias = '') =>
  `CRC32(CONCAT_WS('#', ${shape.columns.map((col) => `ISNULL(${alias}${ident(col.name)}), CAST(${alias}${ident(col.name)} AS BINARY)`).join(', ')}))`;

export interface RowDigest {
  /** The primary key's values, as selectByKeys and deleteByKeys take them. */
  key: unknown[];
  crc: string;
}

/**
 * The primary key and CRC32 of every row of the batch, in one unsorted read (a sorted result is materialized,
 * and MariaDB cuts a DOUBLE's text there to the type's 22-character display width: 0.000031701136002038055
 * came out 0.00003170113600203805 and verify saw the copy differ).
 */
export async function rowDigests(
  c: SqlClient,
  table: string,
  shape: TableShape,
  buckets: readonly number[],
): Promise<RowDigest[]> {
  const keyCols = shape.key.map((k) => shape.columns.find((col) => col.name === k) ?? { name: k, type: '' });
  const rows = await c.query(
    `SELECT ${keyCols.map(selectExpr).join(', ')}, ${rowCrc(shape, 'src.')} AS _sapp_crc FROM ${ident(table)} AS src WHERE src.${inBuckets(buckets)}`,
    [...buckets],
  );
  return rows.map((r) => ({ key: shape.key.map((k) => r[k]), crc: String(r._sapp_crc) }));
}

/** The rows with these primary keys, every stored column, exact types as text. */
export async function selectByKeys(
  c: SqlClient,
  table: string,
  shape: TableShape,
  keys: readonly unknown[][],
): Promise<Row[]> {
  if (keys.length === 0) return [];
  const tuple = `(${marks(shape.key.length)})`;
  return c.query(
    `SELECT ${shape.columns.map(selectExpr).join(', ')} FROM ${ident(table)} AS src WHERE ${keyTuple(shape)} IN (${keys.map(() => tuple).join(', ')})`,
    keys.flat(),
  );
}

/** Every row of the batch (a table without a primary key is copied whole). */
export async function selectAll(
  c: SqlClient,
  table: string,
  shape: TableShape,
  buckets: readonly number[],
): Promise<Row[]> {
  return c.query(
    `SELECT ${shape.columns.map(selectExpr).join(', ')} FROM ${ident(table)} AS src WHERE src.${inBuckets(buckets)}`,
    [...buckets],
  );
}

/** Deletes the rows with these primary keys. */
export async function deleteByKeys(
  c: SqlClient,
  table: string,
  shape: TableShape,
  keys: readonly unknown[][],
): Promise<void> {
  if (keys.length === 0) return;
  const tuple = `(${marks(shape.key.length)})`;
  await c.query(
    `DELETE FROM ${ident(table)} WHERE (${shape.key.map(ident).join(', ')}) IN (${keys.map(() => tuple).join(', ')})`,
    keys.flat(),
  );
}

export async function insertRows(
  c: SqlClient,
  table: string,
  shape: TableShape,
  rows: readonly Row[],
): Promise<void> {
  if (rows.length === 0) return;
  const names = shape.columns.map((col) => col.name);
  const tuple = `(${marks(names.length)})`;
  await c.query(
    `INSERT INTO ${ident(table)} (${names.map(ident).join(', ')}) VALUES ${rows.map(() => tuple).join(', ')}`,
    rows.flatMap((r) => names.map((n) => r[n])),
  );
}

/** Deletes every row of the buckets (the destination's, before a copy). */
export async function deleteRows(c: SqlClient, table: string, buckets: readonly number[]): Promise<void> {
  await c.query(`DELETE FROM ${ident(table)} WHERE ${inBuckets(buckets)}`, [...buckets]);
}

/** Deletes up to `limit` rows of the buckets (the source's cleanup) and says how many it deleted. */
export async function deleteChunk(
  c: SqlClient,
  table: string,
  buckets: readonly number[],
  limit: number,
): Promise<number> {
  await c.query(`DELETE FROM ${ident(table)} WHERE ${inBuckets(buckets)} LIMIT ${Number(limit)}`, [
    ...buckets,
  ]);
  const [row] = await c.query('SELECT ROW_COUNT() AS n');
  return Number(row?.n ?? 0);
}

export interface Checksum {
  rows: number;
  /** BIT_XOR and SUM of each row's CRC32, as decimal text. */
  xor: string;
  sum: string;
}

/**
 * Count and checksum of the batch's rows. Each row hashes as CONCAT_WS of, per column, whether it is NULL and
 * its bytes (CONCAT_WS skips NULLs: without the flag, (NULL, 'a') and ('a', NULL) would hash alike). BIT_XOR
 * is the usual table checksum; SUM also changes when a row is there twice.
 */
export async function checksum(
  c: SqlClient,
  table: string,
  shape: TableShape,
  buckets: readonly number[],
): Promise<Checksum> {
  const crc = rowCrc(shape);
  const [row] = await c.query(
    `SELECT COUNT(*) AS n, COALESCE(BIT_XOR(${crc}), 0) AS x, COALESCE(SUM(${crc}), 0) AS s FROM ${ident(table)} WHERE ${inBuckets(buckets)}`,
    [...buckets],
  );
  return { rows: Number(row?.n ?? 0), xor: String(row?.x ?? '0'), sum: String(row?.s ?? '0') };
}

export const sameChecksum = (a: Checksum, b: Checksum) =>
  a.rows === b.rows && a.xor === b.xor && a.sum === b.sum;

/** MySQL and MariaDB both name a duplicate key ER_DUP_ENTRY (1062). */
export const isKeyConflict = (e: unknown) => isCode(e, 'ER_DUP_ENTRY', 'ER_DUP_ENTRY_WITH_KEY_NAME');
