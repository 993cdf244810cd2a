// The shard map the shop routes orders by: which group owns each bucket (-1 the main database, i shard i) and
// which buckets are moving (their writes wait). The operator publishes it in one row on the main primary; the
// client reads it every SHARD_MAP_REFRESH_MS and, before it routes, reads it again when the last read started
// more than SHARD_MAP_MAX_AGE_MS ago. Where the table does not exist (an operator from before resharding), the
// map is the static one of the binding's shard count, as the shop always routed.
import type { Logger } from 'pino';
import { ER_NO_SUCH_TABLE, MAIN_OWNER, READ_SHARD_MAP_SQL } from './contract.js';
import type { Reader } from './db.js';
import { shardMap } from './shards.js';

export interface ShardMap {
  /** The operator's version (+1 on every change); 0 for the static map. */
  version: number;
  /** The owner of every bucket: MAIN_OWNER (-1) or a shard index. */
  owners: readonly number[];
  /** Buckets whose writes wait until the map no longer lists them. */
  moving: ReadonlySet<number>;
  /** `table`: read from the operator's map; `static`: the binding's shard count (no map table). */
  source: 'table' | 'static';
}

/** The map's row as the database returns it. */
export interface ShardMapRow {
  version: number | string;
  owners: string;
  moving: string;
}

const integers = (text: string) => (text.trim() === '' ? [] : text.split(',').map((t) => Number(t.trim())));

/** Checks and parses the map row; the error says what is wrong with it. */
export function parseShardMap(row: ShardMapRow, buckets: number): ShardMap {
  const version = Number(row.version);
  if (!Number.isSafeInteger(version) || version < 0) throw new Error(`shard map: bad version ${row.version}`);
  const owners = integers(row.owners);
  if (owners.length !== buckets) {
    throw new Error(`shard map: ${owners.length} owners, expected one for each of ${buckets} buckets`);
  }
  const badOwner = owners.findIndex((o) => !Number.isInteger(o) || o < MAIN_OWNER);
  if (badOwner >= 0) throw new Error(`shard map: bucket ${badOwner} has a bad owner`);
  const moving = integers(row.moving);
  const badBucket = moving.find((b) => !Number.isInteger(b) || b < 0 || b >= buckets);
  if (badBucket !== undefined) throw new Error(`shard map: moving lists a bad bucket (${badBucket})`);
  return { version, owners: Object.freeze(owners), moving: new Set(moving), source: 'table' };
}

/** The map of a binding with `shardCount` shards and no map table: today's routing (all main when 0). */
export function staticShardMap(shardCount: number, buckets: number): ShardMap {
  const owners = shardCount > 0 ? shardMap(shardCount, buckets) : new Array<number>(buckets).fill(MAIN_OWNER);
  return { version: 0, owners: Object.freeze(owners), moving: new Set(), source: 'static' };
}

/** The map's row on the main primary; undefined when the table (or its row) does not exist. */
export async function readShardMapRow(reader: Reader): Promise<ShardMapRow | undefined> {
  try {
    const [row] = await reader.rows<ShardMapRow>(READ_SHARD_MAP_SQL);
    return row;
  } catch (err) {
    if ((err as { errno?: unknown }).errno === ER_NO_SUCH_TABLE) return undefined;
    throw err;
  }
}

export interface ShardMapClientOptions {
  buckets: number;
  /** The binding's shard count, for the static map. */
  shardCount: number;
  maxAgeMs: number;
  refreshMs: number;
  log: Logger;
  /** A monotonic clock in ms (a test passes its own). */
  now?: () => number;
}

/** Reads the map on a timer and on demand; hands out a map whose read started at most maxAgeMs ago. */
export class ShardMapClient {
  private last: { map: ShardMap; startedAt: number } | undefined;
  private running: { startedAt: number; done: Promise<ShardMap> } | undefined;
  private queued: Promise<ShardMap> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failing = false;
  private readonly fallback: ShardMap;
  private readonly now: () => number;

  constructor(
    private readonly readRow: () => Promise<ShardMapRow | undefined>,
    private readonly options: ShardMapClientOptions,
  ) {
    this.fallback = staticShardMap(options.shardCount, options.buckets);
    this.now = options.now ?? (() => performance.now());
  }

  /** How long ago the read of the map in hand started (Infinity before the first read). */
  age(): number {
    return this.last ? this.now() - this.last.startedAt : Infinity;
  }

  /** The map in hand, whatever its age (undefined before the first read). */
  peek(): ShardMap | undefined {
    return this.last?.map;
  }

  /** A map whose read started at most maxAgeMs ago: the one in hand, or a new read. */
  current(): Promise<ShardMap> {
    if (this.last && this.age() <= this.options.maxAgeMs) return Promise.resolve(this.last.map);
    if (this.running && this.now() - this.running.startedAt <= this.options.maxAgeMs)
      return this.running.done;
    return this.refresh();
  }

  /** A map whose read started after this call (one read at a time; callers that ask together share it). */
  refresh(): Promise<ShardMap> {
    const asked = this.now();
    if (!this.running) return this.read();
    if (this.running.startedAt >= asked) return this.running.done;
    this.queued ??= this.running.done
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.running && this.running.startedAt >= asked ? this.running.done : this.read();
      });
    return this.queued;
  }

  private read(): Promise<ShardMap> {
    const startedAt = this.now();
    const done = this.readRow().then((row) => {
      const map = row ? parseShardMap(row, this.options.buckets) : this.fallback;
      const previous = this.last?.map;
      if (!previous || previous.version !== map.version || previous.source !== map.source) {
        this.options.log.info(
          { version: map.version, source: map.source, moving: map.moving.size },
          'shard map changed',
        );
      }
      this.last = { map, startedAt };
      return map;
    });
    const running = { startedAt, done };
    this.running = running;
    const settle = () => {
      if (this.running === running) this.running = undefined;
    };
    done.then(settle, settle);
    return done;
  }

  /** Reads now and then every refreshMs until stop(); a failed read is logged and the map in hand ages. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.refresh();
    this.schedule(this.options.refreshMs - this.age());
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(
      () => {
        this.refresh().then(
          () => {
            if (this.failing) this.options.log.info('shard map read again');
            this.failing = false;
            this.schedule(this.options.refreshMs - this.age());
          },
          (err: unknown) => {
            if (!this.failing) this.options.log.warn({ err: String(err) }, 'could not read the shard map');
            this.failing = true;
            this.schedule(this.options.refreshMs);
          },
        );
      },
      Math.max(0, delayMs),
    ).unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
