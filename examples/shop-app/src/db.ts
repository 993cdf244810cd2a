// Connection pools to every database the binding names, each labelled with its target (primary, replica,
// shard-N, shard-N-replica) so that every query is counted where it went. Each database keeps track of whether it
// answers: a statement that finds it unreachable (refused, reset, or silent past its time limit) marks it down,
// and a background probe marks it up again. Reads prefer a replica and go to its primary while it is down, so a
// crashed replica costs no page; a write to a primary that is down fails fast with an Unavailable naming it.
import mysql from 'mysql2/promise';
import type { Pool, PoolConnection, ResultSetHeader } from 'mysql2/promise';
import { deadline, isUnavailable, Unavailable } from './availability.js';
import type { Config, DatabaseEndpoint } from './config.js';
import { MAIN_OWNER } from './contract.js';
import type { Metrics } from './metrics.js';

type Params = unknown[];

/** Runs reads (a database, or a replica with its primary as fallback). */
export interface Reader {
  rows<T>(sql: string, params?: Params): Promise<T[]>;
}

/** Runs statements on one connection (inside a transaction, or holding a lock). */
export interface Session extends Reader {
  exec(sql: string, params?: Params): Promise<ResultSetHeader>;
}

export interface DatabaseOptions {
  connectionLimit?: number;
  /**
   * A statement (outside withConnection) that has no answer after this long gives up: its connection is
   * destroyed (a hung server would never answer it) and the database counts as down.
   */
  statementTimeoutMs?: number;
  /** While down, how often a probe checks whether it answers again. */
  probeIntervalMs?: number;
}

export class Database implements Session {
  private readonly pool: Pool;
  private readonly statementTimeoutMs: number;
  private readonly probeIntervalMs: number;
  private down: { since: Date; reason: string } | undefined;
  private probe: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(
    readonly target: string,
    readonly endpoint: DatabaseEndpoint,
    private readonly metrics: Metrics,
    { connectionLimit = 10, statementTimeoutMs = 10_000, probeIntervalMs = 1_000 }: DatabaseOptions = {},
  ) {
    this.statementTimeoutMs = statementTimeoutMs;
    this.probeIntervalMs = probeIntervalMs;
    this.pool = mysql.createPool({
      host: endpoint.host,
      port: endpoint.port,
      user: endpoint.user,
      password: endpoint.password,
      database: endpoint.database,
      connectionLimit,
      maxIdle: connectionLimit,
      idleTimeout: 60_000,
      connectTimeout: 3_000,
      enableKeepAlive: true,
      dateStrings: true,
      timezone: 'Z',
      charset: 'utf8mb4',
    });
    // A dropped idle connection must not crash the process; the pool replaces it.
    this.pool.on('connection', (conn) => conn.on('error', () => {}));
  }

  /** False from a statement that found the server unreachable until a probe gets an answer again. */
  get available(): boolean {
    return this.down === undefined;
  }

  /** Fails fast (an Unavailable naming the target and why) while the database is down. */
  assertAvailable(): void {
    if (this.down) {
      throw new Unavailable(this.target, `down since ${this.down.since.toISOString()} (${this.down.reason})`);
    }
  }

  private markDown(err: unknown): void {
    if (!this.down) this.down = { since: new Date(), reason: errorText(err) };
    if (this.probe || this.ended) return;
    const check = () => {
      this.probe = undefined;
      if (this.ended) return;
      this.pooled('SELECT 1', [], this.probeIntervalMs).then(
        () => (this.down = undefined),
        () => {
          if (!this.ended) this.probe = setTimeout(check, this.probeIntervalMs).unref();
        },
      );
    };
    this.probe = setTimeout(check, this.probeIntervalMs).unref();
  }

  /** Counts and times a statement (see classify). */
  private async timed<T>(run: () => Promise<T>): Promise<T> {
    this.metrics.dbQueries.inc({ target: this.target });
    const end = this.metrics.dbDuration.startTimer({ target: this.target });
    try {
      return await this.classify(run);
    } finally {
      end();
    }
  }

  /** An outage marks the database down and becomes an Unavailable naming it; other errors pass. */
  private async classify<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (!isUnavailable(err)) throw err;
      this.markDown(err);
      throw err instanceof Unavailable && err.dependency === this.target
        ? err
        : new Unavailable(this.target, errorText(err), { cause: err });
    }
  }

  /** A connection of the pool within `timeoutMs`; one that comes later goes back to the pool. */
  private acquire(timeoutMs: number): Promise<PoolConnection> {
    let expired = false;
    const getting = this.pool.getConnection().then((conn) => {
      if (expired) {
        conn.release();
        throw new Unavailable(this.target, 'connected after the time limit');
      }
      return conn;
    });
    return deadline(getting, timeoutMs, this.target, () => (expired = true));
  }

  /** One statement on a pooled connection within `timeoutMs` in all; past it the connection is destroyed. */
  private async pooled<R>(sql: string, params: Params, timeoutMs: number): Promise<R> {
    const started = Date.now();
    const conn = await this.acquire(timeoutMs);
    try {
      return await this.onConnection<R>(conn, sql, params, Math.max(1, timeoutMs - (Date.now() - started)));
    } finally {
      conn.release(); // a no-op for a connection destroyed at the time limit
    }
  }

  /** One statement on `conn` within `timeoutMs` (none: wait); past it the connection is destroyed. */
  private onConnection<R>(conn: PoolConnection, sql: string, params: Params, timeoutMs?: number): Promise<R> {
    const query = conn.query(sql, params).then(([result]) => result as R);
    return timeoutMs === undefined ? query : deadline(query, timeoutMs, this.target, () => conn.destroy());
  }

  rows<T>(sql: string, params: Params = []): Promise<T[]> {
    return this.timed(() => this.pooled<T[]>(sql, params, this.statementTimeoutMs));
  }

  exec(sql: string, params: Params = []): Promise<ResultSetHeader> {
    return this.timed(() => this.pooled<ResultSetHeader>(sql, params, this.statementTimeoutMs));
  }

  /**
   * Runs `fn` with one connection of the pool (every statement counted, no time limit: a migration waits up to
   * 30 s for its lock), then gives it back.
   */
  withConnection<T>(fn: (session: Session, conn: PoolConnection) => Promise<T>): Promise<T> {
    return this.onOwnConnection(undefined, fn);
  }

  private async onOwnConnection<T>(
    timeoutMs: number | undefined,
    fn: (session: Session, conn: PoolConnection) => Promise<T>,
  ): Promise<T> {
    const conn = await this.classify(() => this.acquire(this.statementTimeoutMs));
    const session: Session = {
      rows: <T>(sql: string, params: Params = []) =>
        this.timed(() => this.onConnection<T[]>(conn, sql, params, timeoutMs)),
      exec: (sql, params = []) =>
        this.timed(() => this.onConnection<ResultSetHeader>(conn, sql, params, timeoutMs)),
    };
    try {
      return await fn(session, conn);
    } finally {
      conn.release();
    }
  }

  /**
   * BEGIN … COMMIT around `fn`; ROLLBACK when it throws. Each statement has the time limit, except COMMIT: giving
   * up on a COMMIT would leave it unknown whether the transaction happened, so it waits for the answer.
   */
  transaction<T>(fn: (tx: Session) => Promise<T>): Promise<T> {
    return this.onOwnConnection(this.statementTimeoutMs, async (session, conn) => {
      await session.exec('START TRANSACTION');
      try {
        const result = await fn(session);
        await this.timed(() => this.onConnection(conn, 'COMMIT', []));
        return result;
      } catch (err) {
        await session.exec('ROLLBACK').catch(() => {});
        throw err;
      }
    });
  }

  /** SELECT 1 within `timeoutMs` (readiness's report); a failure marks the database down. */
  async ping(timeoutMs: number): Promise<void> {
    await this.timed(() => this.pooled('SELECT 1', [], timeoutMs));
  }

  end(): Promise<void> {
    this.ended = true;
    clearTimeout(this.probe);
    return this.pool.end();
  }
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Reads that go to `preferred` (a replica) and, while it is down or when it fails to answer, to `fallback` (its
 * primary): the request that finds the replica gone is answered from the primary, and so are the next ones, with
 * no wait, until the replica's probe succeeds.
 */
export class ReadRoute implements Reader {
  constructor(
    readonly preferred: Database,
    readonly fallback: Database,
  ) {}

  async rows<T>(sql: string, params: Params = []): Promise<T[]> {
    return (await this.read<T>(sql, params)).rows;
  }

  /** The rows, and the target of the database that answered (the replica's, or its primary's). */
  async read<T>(sql: string, params: Params = []): Promise<{ rows: T[]; target: string }> {
    if (this.preferred.available) {
      try {
        return { rows: await this.preferred.rows<T>(sql, params), target: this.preferred.target };
      } catch (err) {
        if (!(err instanceof Unavailable)) throw err;
      }
    }
    try {
      return { rows: await this.fallback.rows<T>(sql, params), target: this.fallback.target };
    } catch (err) {
      if (!(err instanceof Unavailable)) throw err;
      throw new Unavailable(`${this.preferred.target} and ${this.fallback.target}`, 'neither answers', {
        cause: err,
      });
    }
  }
}

/** Reads through a route or a database, remembering which databases answered (the HTML pages show them). */
export class TracedReader implements Reader {
  readonly answered = new Set<string>();

  constructor(private readonly inner: ReadRoute | Database) {}

  async rows<T>(sql: string, params: Params = []): Promise<T[]> {
    const { rows, target } =
      this.inner instanceof ReadRoute
        ? await this.inner.read<T>(sql, params)
        : { rows: await this.inner.rows<T>(sql, params), target: this.inner.target };
    this.answered.add(target);
    return rows;
  }
}

export interface DatabasesOptions {
  /** Statement time limit on replicas: past it, a read goes to the primary instead. */
  readTimeoutMs?: number;
  /** Statement time limit on primaries (COMMIT and migrations excepted). */
  writeTimeoutMs?: number;
  probeIntervalMs?: number;
}

export interface ShardDatabases {
  index: number;
  write: Database;
  read: Database;
}

/** Every database of the binding. Orders go to the group the shard map names (routing.ts). */
export class Databases {
  readonly primary: Database;
  readonly replica: Database;
  /** The main primary again, on a pool of its own for the shard map's reads (counted as `shard-map`). */
  readonly shardMap: Database;
  readonly shards: ShardDatabases[];
  /** Catalog reads: the replica, or the main primary while it is down. */
  readonly catalog: ReadRoute;
  private readonly shardReads: ReadRoute[];

  constructor(
    config: Config,
    metrics: Metrics,
    { readTimeoutMs = 2_000, writeTimeoutMs = 10_000, probeIntervalMs = 1_000 }: DatabasesOptions = {},
  ) {
    const primary = (target: string, endpoint: DatabaseEndpoint) =>
      new Database(target, endpoint, metrics, { statementTimeoutMs: writeTimeoutMs, probeIntervalMs });
    const replica = (target: string, endpoint: DatabaseEndpoint) =>
      new Database(target, endpoint, metrics, { statementTimeoutMs: readTimeoutMs, probeIntervalMs });
    this.primary = primary('primary', config.primary);
    this.replica = replica('replica', config.replica);
    this.catalog = new ReadRoute(this.replica, this.primary);
    this.shardMap = new Database('shard-map', config.primary, metrics, {
      connectionLimit: 2,
      statementTimeoutMs: readTimeoutMs,
      probeIntervalMs,
    });
    this.shards = config.shards.map((s) => ({
      index: s.index,
      write: primary(`shard-${s.index}`, s.write),
      read: replica(`shard-${s.index}-replica`, s.read),
    }));
    this.shardReads = this.shards.map((s) => new ReadRoute(s.read, s.write));
  }

  get sharded(): boolean {
    return this.shards.length > 0;
  }

  /** The primary and read route of a group: MAIN_OWNER (-1) for the main database, else a shard index. */
  group(owner: number): { write: Database; read: ReadRoute } {
    if (owner === MAIN_OWNER) return { write: this.primary, read: this.catalog };
    const shard = this.shards[owner];
    if (!shard) throw new RangeError(`no shard ${owner} in the binding (${this.shards.length} shards)`);
    return { write: shard.write, read: this.shardReads[owner]! };
  }

  /** Databases where the schema is migrated: the main primary and every shard primary. */
  primaries(): Database[] {
    return [this.primary, ...this.shards.map((s) => s.write)];
  }

  all(): Database[] {
    return [this.primary, this.replica, ...this.shards.flatMap((s) => [s.write, s.read])];
  }

  async end(): Promise<void> {
    await Promise.allSettled([...this.all(), this.shardMap].map((db) => db.end()));
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
