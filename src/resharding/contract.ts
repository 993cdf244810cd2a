// The resharding contract between the operator and the apps: the names of the operator's tables, their DDL, the
// fence states and the defaults. The shop keeps its own copy of the names (it imports nothing from the operator);
// a test keeps the two equal.
//
//   - The map: one row (id 1) on the main primary, in the app database: the owner of every bucket (-1 the main
//     database group, i shard i), the buckets whose writes pause, a version apps compare, and the mover's progress.
//   - The fence: on every group's primary, one row per bucket the group holds; a group takes writes for a bucket
//     only while its row says `owned` (checked by the app under a shared lock in the write's own transaction).
//   - A sharded table is a base table of the app database with a `shard_bucket` column; the others stay on the
//     main database and never move. Tables named `_sapp_*` are the operator's.

/** The shard map: one row (id 1) on the main primary, in the app database. */
export const SHARD_MAP_TABLE = '_sapp_shard_map';
/** The fence: one row per bucket a group holds, on every group's primary. */
export const BUCKET_FENCE_TABLE = '_sapp_shard_buckets';
/** The column every row of a sharded table carries: the bucket of its shard key. */
export const SHARD_BUCKET_COLUMN = 'shard_bucket';
/** Tables whose name starts with this are the operator's. */
export const OPERATOR_TABLE_PREFIX = '_sapp_';

/** The owner of a bucket held by the main database group; shards are owners 0..n-1. */
export const MAIN_OWNER = -1;

/** A fence row's states; a group takes writes for a bucket only while its row says `owned` (absent: not owned). */
export const BUCKET_STATES = ['owned', 'moving', 'incoming', 'moved'] as const;
export type BucketState = (typeof BUCKET_STATES)[number];

/** The map must have been read (the read started) at most this long before it routes (binding default). */
export const DEFAULT_SHARD_MAP_MAX_AGE_MS = 2_000;
/** How often apps read the map (binding default). */
export const DEFAULT_SHARD_MAP_REFRESH_MS = 500;
/** Buckets moved together (one write pause) by default. */
export const DEFAULT_BATCH_BUCKETS = 16;

/** The operator's auto_increment_increment: `id % 100` names the group that created a row. */
export const AUTO_INCREMENT_INCREMENT = 100;

/** The map table (MySQL 8.4 and MariaDB). */
export const SHARD_MAP_DDL = (table = SHARD_MAP_TABLE) => `CREATE TABLE IF NOT EXISTS \`${table}\` (
  id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
  version BIGINT UNSIGNED NOT NULL,
  owners MEDIUMTEXT NOT NULL,
  moving MEDIUMTEXT NOT NULL,
  progress MEDIUMTEXT NOT NULL,
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB`;

/** The fence table (MySQL 8.4 and MariaDB). */
export const BUCKET_FENCE_DDL = `CREATE TABLE IF NOT EXISTS \`${BUCKET_FENCE_TABLE}\` (
  bucket SMALLINT UNSIGNED NOT NULL PRIMARY KEY,
  state VARCHAR(16) NOT NULL
) ENGINE=InnoDB`;

/** What apps run to read the map (their only statement on it). */
export const READ_SHARD_MAP_SQL = `SELECT version, owners, moving FROM ${SHARD_MAP_TABLE} WHERE id = 1`;
/** The apps' fence check, in the write's own transaction and before its first write. */
export const CHECK_FENCE_SQL = `SELECT state FROM ${BUCKET_FENCE_TABLE} WHERE bucket = ? LOCK IN SHARE MODE`;
