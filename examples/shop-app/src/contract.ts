// The names of the operator's resharding contract, as the shop uses them. The operator moves buckets of orders
// between database groups while the shop runs; the shop keeps its side of the contract:
//   - it routes by the map the operator publishes on the main primary (`_sapp_shard_map`), read again at least
//     every SHARD_MAP_MAX_AGE_MS before it routes;
//   - it writes a bucket only on a group whose fence row (`_sapp_shard_buckets`) says `owned`, checked in the
//     write's own transaction under a shared lock;
//   - every row of a sharded table carries its bucket in `shard_bucket`.
// The app is its own image and imports nothing from the operator, so this is a copy of the operator's names.

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

/** A fence row's states; a group takes writes for a bucket only while its row says `owned`. */
export const BUCKET_STATES = ['owned', 'moving', 'incoming', 'moved'] as const;
export type BucketState = (typeof BUCKET_STATES)[number];
export const OWNED: BucketState = 'owned';

/** The map must have been read (the read started) at most this long before it routes (binding default). */
export const DEFAULT_SHARD_MAP_MAX_AGE_MS = 2_000;
/** How often the map is read (binding default). */
export const DEFAULT_SHARD_MAP_REFRESH_MS = 500;
/** How long a write of a moving bucket waits (re-reading the map) before it fails with a 503. */
export const WRITE_RETRY_DEADLINE_MS = 5_000;

/** The operator's auto_increment_increment: `id % 100` names the group that created a row. */
export const AUTO_INCREMENT_INCREMENT = 100;

/** Reads the map (the app's only statement on the map table). */
export const READ_SHARD_MAP_SQL = `SELECT version, owners, moving FROM ${SHARD_MAP_TABLE} WHERE id = 1`;
/** The fence check, in the write's own transaction and before its first write (MySQL 8.4 and MariaDB). */
export const CHECK_FENCE_SQL = `SELECT state FROM ${BUCKET_FENCE_TABLE} WHERE bucket = ? LOCK IN SHARE MODE`;

/** MySQL/MariaDB's "table doesn't exist" (an operator from before the contract). */
export const ER_NO_SUCH_TABLE = 1146;
