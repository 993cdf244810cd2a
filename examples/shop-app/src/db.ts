// Connection pools to every database the binding names, each labelled with its target (primary, replica,
// shard-N, shard-N-replica) so that every query is counted where it went.
import mysql from 'mysql2/promise';
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { Config, DatabaseEndpoint } from './config.js';
import type { Metrics } from './metrics.js';
import { shardForKey } from './shards.js';

type Params = unknown[];

/** Runs statements on one connection (inside a transaction, or holding a lock). */
export interface Session {
  rows<T>(sql: string, params?: Params): Promise<T[]>;
  exec(sql: string, params?: Params): Promise<ResultSetHeader>;
}

export class Database implements Session {
  private readonly pool: Pool;

  constructor(
    readonly target: string,
    readonly endpoint: DatabaseEndpoint,
    private readonly metrics: Metrics,
    connectionLimit = 10,
  ) {
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

  private async timed<T>(run: () => Promise<T>): Promise<T> {
    this.metrics.dbQueries.inc({ target: this.target });
    const end = this.metrics.dbDuration.startTimer({ target: this.target });
    try {
      return await run();
    } finally {
      end();
    }
  }

  rows<T>(sql: string, params: Params = []): Promise<T[]> {
    return this.timed(async () => (await this.pool.query<RowDataPacket[]>(sql, params))[0] as T[]);
  }

  exec(sql: string, params: Params = []): Promise<ResultSetHeader> {
    return this.timed(async () => (await this.pool.query<ResultSetHeader>(sql, params))[0]);
  }

  /** Runs `fn` with one connection of the pool (every statement counted), then gives it back. */
  async withConnection<T>(fn: (session: Session, conn: PoolConnection) => Promise<T>): Promise<T> {
    const conn = await this.pool.getConnection();
    const session: Session = {
      rows: <T>(sql: string, params: Params = []) =>
        this.timed(async () => (await conn.query<RowDataPacket[]>(sql, params))[0] as T[]),
      exec: (sql, params = []) => this.timed(async () => (await conn.query<ResultSetHeader>(sql, params))[0]),
    };
    try {
      return await fn(session, conn);
    } finally {
      conn.release();
    }
  }

  /** BEGIN … COMMIT around `fn`; ROLLBACK when it throws. */
  transaction<T>(fn: (tx: Session) => Promise<T>): Promise<T> {
    return this.withConnection(async (session) => {
      await session.exec('START TRANSACTION');
      try {
        const result = await fn(session);
        await session.exec('COMMIT');
        return result;
      } catch (err) {
        await session.exec('ROLLBACK').catch(() => {});
        throw err;
      }
    });
  }

  /** SELECT 1 within `timeoutMs` (readiness). */
  async ping(timeoutMs: number): Promise<void> {
    await withTimeout(
      this.timed(() => this.pool.query({ sql: 'SELECT 1', timeout: timeoutMs })),
      timeoutMs,
      `${this.target} did not answer within ${timeoutMs} ms`,
    );
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}

export interface ShardDatabases {
  index: number;
  write: Database;
  read: Database;
}

/** Every database of the binding. Orders go to a shard by customer id, or to the main primary when unsharded. */
export class Databases {
  readonly primary: Database;
  readonly replica: Database;
  readonly shards: ShardDatabases[];

  constructor(
    private readonly config: Config,
    metrics: Metrics,
  ) {
    this.primary = new Database('primary', config.primary, metrics);
    this.replica = new Database('replica', config.replica, metrics);
    this.shards = config.shards.map((s) => ({
      index: s.index,
      write: new Database(`shard-${s.index}`, s.write, metrics),
      read: new Database(`shard-${s.index}-replica`, s.read, metrics),
    }));
  }

  get sharded(): boolean {
    return this.shards.length > 0;
  }

  /** Where a customer's orders are written and read; `shard` is undefined when unsharded. */
  forCustomer(customerId: number): { shard: number | undefined; write: Database; read: Database } {
    if (!this.sharded) return { shard: undefined, write: this.primary, read: this.replica };
    const index = shardForKey(customerId, this.shards.length, this.config.shardBuckets);
    const shard = this.shards[index]!;
    return { shard: index, write: shard.write, read: shard.read };
  }

  /** Databases where the schema is migrated: the main primary and every shard primary. */
  primaries(): Database[] {
    return [this.primary, ...this.shards.map((s) => s.write)];
  }

  all(): Database[] {
    return [this.primary, this.replica, ...this.shards.flatMap((s) => [s.write, s.read])];
  }

  async end(): Promise<void> {
    await Promise.allSettled(this.all().map((db) => db.end()));
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
