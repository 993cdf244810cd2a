// Rows of a sharded table whose shard_bucket is NULL: written by an app that does not fill it (a pod of an older
// version during a rolling upgrade, after the new pods' startup backfill), or from before the column. The mover
// cannot tell their bucket, and moves and deletes rows by bucket only, so such a row on a batch's source would be
// left behind when its bucket moves, and filled later on a group that no longer serves it. So no batch starts
// (precopy, and again right before its pause) while its source holds one, and no moved row is deleted while a
// source holds one: the pass waits, and says where they are and what the app must do. The checks are one
// `IS NULL` count per table whose column accepts NULL, on the batch's source only (a row kept as the contract
// says sits at its bucket's owner, so only the source can hold the batch's), before its precopy (no copy is
// wasted) and right before its pause (rows written during the precopy); and on every group with moved rows
// before the delete. A row written without a bucket after that last check, into a bucket already moved, is
// beyond them: the group's fence says `moved`, so an app that fills it as the contract says (fence checked)
// cannot fill it there; it belongs at the bucket's owner.
import { groupName, type Servers } from './servers.js';
import { shardedTables, unbucketedRows } from './sql.js';

/** Rows counted per table at most (an indexed `IS NULL` range with a LIMIT: cheap however many there are). */
export const UNBUCKETED_COUNT_CAP = 10_000;
/** How soon a pass held by such rows asks to run again. */
export const UNBUCKETED_RETRY_MS = 5_000;

export interface Unbucketed {
  table: string;
  owner: number;
  /** Counted up to UNBUCKETED_COUNT_CAP. */
  rows: number;
}

/** The first sharded table (groups in order, tables by name) that holds rows without a bucket, if any. */
export async function findUnbucketed(
  servers: Servers,
  database: string,
  owners: readonly number[],
): Promise<Unbucketed | undefined> {
  for (const owner of owners) {
    const client = await servers.primary(owner);
    for (const table of await shardedTables(client, database, true)) {
      const rows = await unbucketedRows(client, table, UNBUCKETED_COUNT_CAP);
      if (rows > 0) return { table, owner, rows };
    }
  }
  return undefined;
}

/** For status and events: where the rows are, what the app must do, and what waits (`until`). */
export function describeUnbucketed(u: Unbucketed, until: string): string {
  const rows = u.rows >= UNBUCKETED_COUNT_CAP ? `at least ${UNBUCKETED_COUNT_CAP}` : String(u.rows);
  return (
    `table ${u.table} on ${groupName(u.owner)} holds ${rows} rows with shard_bucket NULL: the app must fill ` +
    `shard_bucket (the bucket of the row's shard key) on them; ${until}`
  );
}
