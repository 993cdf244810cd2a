// The map row on the main primary: read it, create it, and change it under its row lock together with the
// progress record, so a step's effect and the record that it happened commit together.
import type { SqlClient } from '../replication/sql.js';
import { parseMapRow, type ShardMapState, serializeMap } from './map.js';
import { createMap, dbNow, inTransaction, readMap, writeMap } from './sql.js';

export async function loadMap(main: SqlClient): Promise<ShardMapState | undefined> {
  const row = await readMap(main);
  return row ? parseMapRow(row) : undefined;
}

export async function storeNewMap(main: SqlClient, map: ShardMapState): Promise<void> {
  await createMap(main, serializeMap(map));
}

/**
 * Changes the map under its row lock: `change` gets the current map and the main primary's clock (epoch ms)
 * and returns the new map (the same object, unchanged, writes nothing). Returns the map as stored. What `change`
 * does on other servers (the fences) happens while the lock is held, so no other pass changes the map meanwhile.
 */
export async function changeMap(
  main: SqlClient,
  change: (map: ShardMapState, now: number) => ShardMapState | Promise<ShardMapState>,
): Promise<ShardMapState> {
  return inTransaction(main, async () => {
    const row = await readMap(main, true);
    if (!row) throw new Error('the shard map row is gone');
    const current = parseMapRow(row);
    const next = await change(current, await dbNow(main));
    if (next !== current) await writeMap(main, serializeMap(next));
    return next;
  });
}
