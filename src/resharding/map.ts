// The shard map's row as a model: parse and validate what the database holds, serialize what the mover writes,
// and the owners a shard count calls for.
import { SHARD_BUCKETS, shardMap } from '../api/sharding.js';
import { MAIN_OWNER } from './contract.js';
import { parseProgress, type Progress, serializeProgress } from './progress.js';

export interface ShardMapState {
  /** +1 on every change apps must see. */
  version: number;
  /** The owner of every bucket, in bucket order: MAIN_OWNER (-1) or a shard index. */
  owners: number[];
  /** Buckets whose writes pause, ascending. */
  moving: number[];
  /** The resharding in progress; undefined when none. */
  progress: Progress | undefined;
}

/** The map row's columns as the mover writes them. */
export interface ShardMapColumns {
  version: number;
  owners: string;
  moving: string;
  progress: string;
}

/** The owners a shard count calls for: the static map of `count` shards, or every bucket on main for 0. */
export function targetOwners(count: number): number[] {
  if (count === 0) return new Array<number>(SHARD_BUCKETS).fill(MAIN_OWNER);
  return shardMap(count);
}

function integerList(what: string, text: string): number[] {
  if (text.trim() === '') return [];
  return text.split(',').map((t, i) => {
    const v = Number(t.trim());
    if (t.trim() === '' || !Number.isInteger(v)) {
      throw new Error(`shard map ${what}: item ${i} is ${JSON.stringify(t)}, not an integer`);
    }
    return v;
  });
}

/** Checks owners: one per bucket, each MAIN_OWNER or a shard index below `shards` (when given). */
export function validateOwners(owners: readonly number[], shards?: number): void {
  if (owners.length !== SHARD_BUCKETS) {
    throw new Error(`shard map owners: ${owners.length} entries, expected one per bucket (${SHARD_BUCKETS})`);
  }
  const bad = owners.findIndex(
    (o) => !Number.isInteger(o) || o < MAIN_OWNER || (shards !== undefined && o >= shards),
  );
  if (bad >= 0) {
    const range = shards === undefined ? '-1 or a shard index' : `-1 to ${shards - 1}`;
    throw new Error(`shard map owners: bucket ${bad} has owner ${owners[bad]}, expected ${range}`);
  }
}

function validateMoving(moving: readonly number[]): void {
  const seen = new Set<number>();
  for (const b of moving) {
    if (b < 0 || b >= SHARD_BUCKETS)
      throw new Error(`shard map moving: bucket ${b} is not 0 to ${SHARD_BUCKETS - 1}`);
    if (seen.has(b)) throw new Error(`shard map moving: bucket ${b} is listed twice`);
    seen.add(b);
  }
}

/** Parses the map row (`version, owners, moving, progress` as the driver returns them); throws on anything invalid. */
export function parseMapRow(row: Record<string, unknown>): ShardMapState {
  const version = Number(row.version);
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new Error(`shard map version: ${String(row.version)} is not a positive integer`);
  }
  const owners = integerList('owners', String(row.owners ?? ''));
  validateOwners(owners);
  const moving = integerList('moving', String(row.moving ?? '')).sort((a, b) => a - b);
  validateMoving(moving);
  return { version, owners, moving, progress: parseProgress(String(row.progress ?? '')) };
}

export function serializeMap(map: ShardMapState): ShardMapColumns {
  validateOwners(map.owners);
  validateMoving(map.moving);
  return {
    version: map.version,
    owners: map.owners.join(','),
    moving: [...map.moving].sort((a, b) => a - b).join(','),
    progress: serializeProgress(map.progress),
  };
}

/** A new map for data laid out by the static map of `count` shards (version 1, nothing moving). */
export function newMap(count: number): ShardMapState {
  return { version: 1, owners: targetOwners(count), moving: [], progress: undefined };
}

/** The buckets `owner` holds in `owners`, ascending. */
export const bucketsOf = (owners: readonly number[], owner: number): number[] =>
  owners.flatMap((o, b) => (o === owner ? [b] : []));

export const sameOwners = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((o, i) => o === b[i]);
