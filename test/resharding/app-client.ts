// The app's side of the resharding contract, as small as a test can have it: read the map (again when it is
// older than the max age), wait while a bucket moves, check the fence under a shared lock in the write's own
// transaction, retry. Writers record every acknowledged row; a reader checks, again and again, that every row
// acknowledged before it read the map is where the map says, exactly once.
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { bucketForKey, shardMap, SHARD_BUCKETS } from '../../src/api/sharding.js';
import { CHECK_FENCE_SQL, MAIN_OWNER, READ_SHARD_MAP_SQL } from '../../src/resharding/contract.js';
import type { HostPort, Topology } from '../../src/resharding/pass.js';
import { sleep } from '../services/ports.js';

export interface AppMap {
  version: number;
  owners: number[];
  moving: Set<number>;
  /** When the read started (ms). */
  readAt: number;
}

/** What a writer wrote, to compare with what the servers hold at the end. */
export interface Written {
  k: string;
  bucket: number;
  price: string;
  ratio: number;
  created: string;
  raw: string;
  note: string | null;
}

export interface WriteTiming {
  bucket: number;
  startedAt: number;
  ms: number;
}

const pool = (at: HostPort, t: Topology) =>
  mysql.createPool({
    host: at.host,
    port: at.port,
    user: t.user,
    password: t.password,
    database: t.database,
    connectionLimit: 6,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });

export class AppClient {
  readonly acked = new Map<string, Written>();
  readonly timings: WriteTiming[] = [];
  readonly failures: string[] = [];
  readonly violations: string[] = [];
  readerChecks = 0;
  private map: AppMap | undefined;
  private readonly main: mysql.Pool;
  private readonly primaries: mysql.Pool[];
  /** Per shard: its read endpoint (the replica when it has one). */
  private readonly reads: mysql.Pool[];
  private stopped = false;
  private readonly loops: Promise<void>[] = [];

  constructor(
    private readonly topology: Topology,
    /** The shard count of the static map, used while no map table exists. */
    private readonly staticCount: number,
    private readonly maxAgeMs: number,
    private readonly deadlineMs = 30_000,
  ) {
    this.main = pool(topology.main.primary, topology);
    this.primaries = topology.shards.map((s) => pool(s.primary, topology));
    this.reads = topology.shards.map((s) => pool(s.replicas[0] ?? s.primary, topology));
  }

  private primaryOf = (owner: number) => (owner === MAIN_OWNER ? this.main : this.primaries[owner]!);
  private readOf = (owner: number) => (owner === MAIN_OWNER ? this.main : this.reads[owner]!);

  /** The map, read again when older than the max age (or when `force`). */
  async currentMap(force = false): Promise<AppMap> {
    if (!force && this.map && Date.now() - this.map.readAt <= this.maxAgeMs) return this.map;
    const readAt = Date.now();
    try {
      const [rows] = await this.main.query<mysql.RowDataPacket[]>(READ_SHARD_MAP_SQL);
      const row = rows[0];
      if (!row) throw Object.assign(new Error('no map row'), { errno: 1146 });
      const list = (s: string) => (s === '' ? [] : s.split(',').map(Number));
      this.map = {
        version: Number(row.version),
        owners: list(row.owners),
        moving: new Set(list(row.moving)),
        readAt,
      };
    } catch (e) {
      if ((e as { errno?: number }).errno !== 1146) throw e;
      const owners =
        this.staticCount === 0 ? new Array(SHARD_BUCKETS).fill(MAIN_OWNER) : shardMap(this.staticCount);
      this.map = { version: 0, owners, moving: new Set(), readAt };
    }
    return this.map;
  }

  /** Writes one item (and its two tags) the contract's way; resolves when acknowledged. */
  async write(k: string): Promise<void> {
    const bucket = bucketForKey(k);
    const row: Written = {
      k,
      bucket,
      price: (Math.floor(Math.random() * 1_000_000) / 100).toFixed(2),
      // Half of them small: 23 characters of text, where a sorted result once cut them short.
      ratio: Math.random() < 0.5 ? Math.random() * 1e-4 : Math.random() * 1e6,
      created: `2026-12-01 10:${String(Math.floor(Math.random() * 60)).padStart(2, '0')}:00.${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`,
      raw: randomBytes(8).toString('hex'),
      note: Math.random() < 0.3 ? null : `note ${k}`,
    };
    const startedAt = Date.now();
    let force = false;
    for (let attempt = 0; ; attempt++) {
      if (Date.now() - startedAt > this.deadlineMs) throw new Error(`write ${k} (bucket ${bucket}) gave up`);
      if (attempt > 0) await sleep(Math.min(20 * attempt, 100));
      const map = await this.currentMap(force);
      force = false;
      if (map.moving.has(bucket)) {
        force = true;
        continue;
      }
      const conn = await this.primaryOf(map.owners[bucket]!).getConnection();
      try {
        await conn.query('START TRANSACTION');
        if (map.version > 0) {
          const [fence] = await conn.query<mysql.RowDataPacket[]>(CHECK_FENCE_SQL, [bucket]);
          if (fence[0]?.state !== 'owned') {
            await conn.query('ROLLBACK');
            force = true;
            continue;
          }
        }
        await conn.query(
          'INSERT INTO items (k, shard_bucket, price, ratio, created, doc, raw, note) VALUES (?, ?, ?, ?, ?, ?, UNHEX(?), ?)',
          [
            k,
            bucket,
            row.price,
            row.ratio,
            row.created,
            JSON.stringify({ k, n: attempt }),
            row.raw,
            row.note,
          ],
        );
        await conn.query('INSERT INTO item_tags (item_k, tag, shard_bucket) VALUES (?, ?, ?), (?, ?, ?)', [
          k,
          'red',
          bucket,
          k,
          'new',
          bucket,
        ]);
        await conn.query('COMMIT');
        this.acked.set(k, row);
        this.timings.push({ bucket, startedAt, ms: Date.now() - startedAt });
        return;
      } catch (e) {
        await conn.query('ROLLBACK').catch(() => {});
        const code = (e as { code?: string }).code ?? '';
        if (!/DEADLOCK|LOCK_WAIT|ER_NO_SUCH_TABLE|ECONNRESET/.test(code)) throw e;
      } finally {
        conn.release();
      }
    }
  }

  /** `n` writers writing keys `${prefix}-w-i` until stop(). */
  startWriters(prefix: string, n: number): void {
    for (let w = 0; w < n; w++) {
      this.loops.push(
        (async () => {
          for (let i = 0; !this.stopped; i++) {
            const k = `${prefix}-${w}-${i}`;
            await this.write(k).catch((e: Error) => this.failures.push(`${k}: ${e.message}`));
          }
        })(),
      );
    }
  }

  /**
   * Reads, until stop(), every item of every group the map names (each group for the buckets the map gives it,
   * on its primary) and checks that each row acknowledged before the map read is there once; and the `seeded`
   * rows on each group's read endpoint (its replica when it has one), where a reader of the app reads them.
   */
  startReader(seeded: readonly Written[]): void {
    this.loops.push(
      (async () => {
        while (!this.stopped) {
          try {
            await this.checkOnce(seeded);
            this.readerChecks++;
          } catch (e) {
            this.violations.push(`reader error: ${(e as Error).message}`);
          }
          await sleep(50);
        }
      })(),
    );
  }

  private async checkOnce(seeded: readonly Written[]): Promise<void> {
    const expected = [...this.acked.keys()];
    const map = await this.currentMap(true);
    const groups = new Map<number, number[]>();
    map.owners.forEach((o, b) => groups.set(o, [...(groups.get(o) ?? []), b]));
    const onPrimaries = new Map<string, number>();
    const onReads = new Map<string, number>();
    for (const [owner, buckets] of groups) {
      const sql = 'SELECT k FROM items WHERE shard_bucket IN (?)';
      const [rows] = await this.primaryOf(owner).query<mysql.RowDataPacket[]>(sql, [buckets]);
      for (const r of rows) onPrimaries.set(r.k, (onPrimaries.get(r.k) ?? 0) + 1);
      const [read] = await this.readOf(owner).query<mysql.RowDataPacket[]>(sql, [buckets]);
      for (const r of read) onReads.set(r.k, (onReads.get(r.k) ?? 0) + 1);
    }
    for (const k of expected) {
      const n = onPrimaries.get(k) ?? 0;
      if (n !== 1)
        this.violations.push(`${k}: seen ${n} times on the primaries (map version ${map.version})`);
    }
    for (const { k, bucket } of seeded) {
      const n = onReads.get(k) ?? 0;
      if (n !== 1) {
        this.violations.push(
          `${k} (bucket ${bucket}, owner ${map.owners[bucket]}): seen ${n} times where the app reads (map version ${map.version})`,
        );
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
    this.loops.length = 0;
    this.stopped = false;
  }

  async close(): Promise<void> {
    await this.stop();
    await Promise.all([this.main, ...this.primaries, ...this.reads].map((p) => p.end()));
  }
}
