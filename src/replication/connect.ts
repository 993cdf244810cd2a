// The operator's connection to one database server: short timeouts (a hung server must not hang a
// reconcile pass), and errors that never carry a password (mysql2 attaches the formatted statement to its
// errors, and a server's syntax error quotes the statement).
import mysql from 'mysql2/promise';
import type { Row, SqlClient } from './sql.js';

export interface ServerAddress {
  host: string;
  port: number;
  user: string;
  password: string;
}

export interface Timeouts {
  /** Connecting and logging in. */
  connectMs: number;
  /** Each statement. */
  queryMs: number;
}

export interface ServerConnection extends SqlClient {
  close(): Promise<void>;
}

/** A database error with the server's code and message, and every parameter's value replaced by '***'. */
export class SqlError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined) {
    super(message);
    this.name = 'SqlError';
    this.code = code;
  }
}

function redact(message: string, params: unknown[]): string {
  let out = message;
  for (const p of params) {
    if (typeof p !== 'string' || p.length === 0) continue;
    // As sent (escaped) and as given.
    for (const form of new Set([mysql.escape(p).slice(1, -1), p])) out = out.split(form).join('***');
  }
  return out;
}

function clean(error: unknown, statement: string, params: unknown[]): SqlError {
  const e = error as { message?: string; code?: string };
  // The statement's first words say what failed; its values stay out.
  const verb = statement.trim().split(/\s+/).slice(0, 3).join(' ');
  return new SqlError(`${verb}: ${redact(e.message ?? String(error), params)}`, e.code);
}

/** The subset of a mysql2 connection this module uses. */
export interface Mysql2Connection {
  query(options: { sql: string; timeout: number }, values?: unknown[]): Promise<[unknown, unknown]>;
  end(): Promise<void>;
  destroy(): void;
}

export function sqlClient(conn: Mysql2Connection, queryMs: number): ServerConnection {
  return {
    async query(sql: string, params: unknown[] = []): Promise<Row[]> {
      try {
        const [rows] = await conn.query({ sql, timeout: queryMs }, params);
        return Array.isArray(rows) ? (rows as Row[]) : [];
      } catch (e) {
        throw clean(e, sql, params);
      }
    },
    async close() {
      // A server that stopped answering would never answer COM_QUIT either.
      await Promise.race([conn.end(), new Promise((resolve) => setTimeout(resolve, queryMs).unref())]).catch(
        () => {},
      );
      conn.destroy();
    },
  };
}

/**
 * mysql2's options for one connection. It keeps a cache of prepared statements per connection, allocated at its
 * full size when the connection is made (4 arrays of maxPreparedStatements entries: 16,000 by default, about
 * 0.5 MB); the operator sends only text queries, and connects to every database member every few seconds.
 */
export function connectionOptions(address: ServerAddress, timeouts: Timeouts): mysql.ConnectionOptions {
  return {
    host: address.host,
    port: address.port,
    user: address.user,
    password: address.password,
    connectTimeout: timeouts.connectMs,
    multipleStatements: false,
    supportBigNumbers: true,
    maxPreparedStatements: 1,
  };
}

/** Connects within `connectMs`, or fails with an error that names the address (never the password). */
export async function connectServer(address: ServerAddress, timeouts: Timeouts): Promise<ServerConnection> {
  const where = `${address.host}:${address.port}`;
  const pending = mysql.createConnection(connectionOptions(address, timeouts));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new SqlError(`connecting to ${where}: no answer within ${timeouts.connectMs} ms`, 'ETIMEDOUT'),
        ),
      timeouts.connectMs,
    );
  });
  try {
    const conn = await Promise.race([pending, deadline]);
    return sqlClient(conn as unknown as Mysql2Connection, timeouts.queryMs);
  } catch (e) {
    // A connection that completes after the deadline is closed at once.
    pending.then((c) => c.destroy()).catch(() => {});
    if (e instanceof SqlError) throw e;
    throw clean(e, `connecting to ${where}`, [address.password]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `fn` on a fresh connection and closes it afterwards. */
export async function withServer<T>(
  address: ServerAddress,
  timeouts: Timeouts,
  fn: (client: ServerConnection) => Promise<T>,
): Promise<T> {
  const client = await connectServer(address, timeouts);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
