// What the operator says to one database server about replication, per engine: read its state, fence it,
// promote it, point it at a new source, turn on semi-synchronous replication. Each function takes a client
// (a real connection in the operator, a fake in unit tests) and runs a few statements; values go in as
// parameters, which the client escapes, never into the SQL text.
import type { Engine } from '../api/v1alpha1/index.js';
import { type GtidSet, parseMariaDB, parseMySQL, union } from './gtid.js';

export type Row = Record<string, unknown>;

export interface SqlClient {
  query(sql: string, params?: unknown[]): Promise<Row[]>;
}

export interface ReplicaStatus {
  sourceHost: string;
  sourcePort: number;
  /** 'Yes', 'No' or 'Connecting'. */
  ioThread: string;
  sqlRunning: boolean;
  /** Seconds behind the source; undefined while the server does not know (a thread stopped). */
  lagSeconds?: number;
  lastError?: string;
}

export interface ServerState {
  /** Transactions this server executed. */
  executed: GtidSet;
  /** Executed, plus those in its relay log waiting to be applied: what it will hold once it has caught up. */
  received: GtidSet;
  /** read_only (MariaDB) / super_read_only (MySQL). */
  readOnly: boolean;
  /** Unset when the server replicates from nobody. */
  replica?: ReplicaStatus;
  /** Semi-synchronous replication as a source: on and waiting for acknowledgements (not fallen back to async). */
  semiSyncActive: boolean;
  /** Replicas connected that acknowledge semi-synchronously. */
  semiSyncReplicas: number;
}

export interface SourceAddress {
  host: string;
  port: number;
  user: string;
  password: string;
}

const text = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
const optionalNumber = (v: unknown): number | undefined =>
  v === null || v === undefined || v === '' ? undefined : Number(v);
const on = (v: unknown): boolean => v === 1 || v === '1' || v === 'ON' || v === 1n;

/** Reads each named global status variable (case-insensitively); a missing one is ''. */
async function globalStatus(client: SqlClient, names: string[]): Promise<Record<string, string>> {
  const rows = await client.query(
    `SHOW GLOBAL STATUS WHERE Variable_name IN (${names.map(() => '?').join(', ')})`,
    names,
  );
  const found = new Map(rows.map((r) => [text(r.Variable_name).toLowerCase(), text(r.Value)]));
  return Object.fromEntries(names.map((n) => [n, found.get(n.toLowerCase()) ?? '']));
}

async function readMariaDB(client: SqlClient): Promise<ServerState> {
  const [vars] = await client.query(
    'SELECT @@gtid_binlog_state AS binlogState, @@gtid_slave_pos AS slavePos, @@read_only AS readOnly',
  );
  const executed = union(parseMariaDB(text(vars!.binlogState)), parseMariaDB(text(vars!.slavePos)));
  // The default connection (''); multi-source connections are not the operator's.
  const status = (await client.query('SHOW ALL SLAVES STATUS')).find((r) => text(r.Connection_name) === '');
  const semi = await globalStatus(client, ['Rpl_semi_sync_master_status', 'Rpl_semi_sync_master_clients']);
  const state: ServerState = {
    executed,
    received: status ? union(executed, parseMariaDB(text(status.Gtid_IO_Pos))) : executed,
    readOnly: on(vars!.readOnly),
    semiSyncActive: semi.Rpl_semi_sync_master_status === 'ON',
    semiSyncReplicas: Number(semi.Rpl_semi_sync_master_clients || 0),
  };
  if (status && text(status.Master_Host) !== '') {
    state.replica = {
      sourceHost: text(status.Master_Host),
      sourcePort: Number(status.Master_Port),
      ioThread: text(status.Slave_IO_Running),
      sqlRunning: text(status.Slave_SQL_Running) === 'Yes',
      lagSeconds: optionalNumber(status.Seconds_Behind_Master),
      lastError: text(status.Last_IO_Error) || text(status.Last_SQL_Error) || undefined,
    };
  }
  return state;
}

async function readMySQL(client: SqlClient): Promise<ServerState> {
  const [vars] = await client.query('SELECT @@gtid_executed AS executed, @@super_read_only AS readOnly');
  const executed = parseMySQL(text(vars!.executed));
  const [status] = await client.query('SHOW REPLICA STATUS');
  const semi = await globalStatus(client, ['Rpl_semi_sync_source_status', 'Rpl_semi_sync_source_clients']);
  const state: ServerState = {
    executed,
    received: status ? union(executed, parseMySQL(text(status.Retrieved_Gtid_Set))) : executed,
    readOnly: on(vars!.readOnly),
    semiSyncActive: semi.Rpl_semi_sync_source_status === 'ON',
    semiSyncReplicas: Number(semi.Rpl_semi_sync_source_clients || 0),
  };
  if (status && text(status.Source_Host) !== '') {
    state.replica = {
      sourceHost: text(status.Source_Host),
      sourcePort: Number(status.Source_Port),
      ioThread: text(status.Replica_IO_Running),
      sqlRunning: text(status.Replica_SQL_Running) === 'Yes',
      lagSeconds: optionalNumber(status.Seconds_Behind_Source),
      lastError: text(status.Last_IO_Error) || text(status.Last_SQL_Error) || undefined,
    };
  }
  return state;
}

export const readState = (client: SqlClient, engine: Engine): Promise<ServerState> =>
  engine === 'mysql' ? readMySQL(client) : readMariaDB(client);

/** Closes the connections of clients (not the server's own threads, replicas' dump threads, or this one). */
async function killClientConnections(client: SqlClient, spare: string[]): Promise<number> {
  const rows = await client.query(
    `SELECT ID AS id FROM information_schema.PROCESSLIST
      WHERE ID <> CONNECTION_ID()
        AND USER NOT IN ('system user', 'event_scheduler'${spare.map(() => ', ?').join('')})
        AND COMMAND NOT IN ('Binlog Dump', 'Binlog Dump GTID', 'Daemon')`,
    spare,
  );
  let killed = 0;
  for (const { id } of rows) {
    try {
      await client.query('KILL CONNECTION ?', [Number(id)]);
      killed++;
    } catch (e) {
      // The connection ended by itself in between.
      if ((e as { code?: string }).code !== 'ER_NO_SUCH_THREAD') throw e;
    }
  }
  return killed;
}

export interface FenceOptions {
  /** Users whose connections stay open (the operator's own, the replication user). */
  spareUsers: string[];
  /** How long setting read_only may wait for running writes before their connections are killed. */
  lockWaitSeconds: number;
}

/**
 * Makes the server refuse writes (read_only; MySQL: super_read_only, persisted), then closes its clients'
 * connections so that the apps reconnect, through the write Service, to the new primary. Returns how many
 * connections were closed.
 */
export async function fence(client: SqlClient, engine: Engine, opts: FenceOptions): Promise<number> {
  const set = engine === 'mysql' ? 'SET PERSIST super_read_only = ON' : 'SET GLOBAL read_only = ON';
  await client.query('SET SESSION lock_wait_timeout = ?', [opts.lockWaitSeconds]);
  let killed = 0;
  try {
    await client.query(set);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ER_LOCK_WAIT_TIMEOUT') throw e;
    // A long write holds the lock read_only waits for: end it, then try again.
    killed += await killClientConnections(client, opts.spareUsers);
    await client.query(set);
  }
  return killed + (await killClientConnections(client, opts.spareUsers));
}

/**
 * Makes a replica the primary: stops fetching, applies everything it received (an acknowledged
 * semi-synchronous commit may be only in its relay log), forgets its source, and takes writes.
 */
export interface PromoteOptions {
  /** How long it may take to apply what it received. */
  applyTimeoutSeconds: number;
  /** Wait for a replica's acknowledgement of each commit from now on (see enableSemiSync). */
  semiSync: boolean;
}

/** What a replica must have applied to hold everything this server wrote, in the engine's own form for
 *  waitForTransactions (MySQL: the executed GTID set; MariaDB: the last GTID of each domain in its binary log). */
export async function writtenPosition(client: SqlClient, engine: Engine): Promise<string> {
  const [row] = await client.query(
    engine === 'mysql' ? 'SELECT @@GLOBAL.gtid_executed AS pos' : 'SELECT @@GLOBAL.gtid_binlog_pos AS pos',
  );
  return text(row?.pos);
}

/**
 * Waits until the server has applied the transactions `gtid` (engine text form), for at most `timeoutSeconds`;
 * throws when it has not by then, with its replication error if any.
 */
export async function waitForTransactions(
  client: SqlClient,
  engine: Engine,
  gtid: string,
  timeoutSeconds: number,
): Promise<void> {
  // In waits of at most a second each, so that no statement outlasts the client's timeout.
  // WAIT_FOR_EXECUTED_GTID_SET returns 0 when done (1 on timeout); MASTER_GTID_WAIT 0 (-1 on timeout).
  const waitSql =
    engine === 'mysql'
      ? 'SELECT WAIT_FOR_EXECUTED_GTID_SET(?, 1) AS timedOut'
      : 'SELECT MASTER_GTID_WAIT(?, 1) AS timedOut';
  for (let i = 0; i < Math.max(1, timeoutSeconds); i++) {
    const [wait] = await client.query(waitSql, [gtid]);
    if (Number(wait!.timedOut) === 0) return;
  }
  const error = (await readState(client, engine)).replica?.lastError;
  throw new Error(`the replica did not apply ${gtid} within ${timeoutSeconds} s${error ? `: ${error}` : ''}`);
}

export async function promote(client: SqlClient, engine: Engine, opts: PromoteOptions): Promise<void> {
  const my = engine === 'mysql';
  await client.query(my ? 'STOP REPLICA IO_THREAD' : 'STOP SLAVE IO_THREAD');
  const status = my
    ? (await client.query('SHOW REPLICA STATUS'))[0]
    : (await client.query('SHOW ALL SLAVES STATUS')).find((r) => text(r.Connection_name) === '');
  if (status) {
    const received = text(my ? status.Retrieved_Gtid_Set : status.Gtid_IO_Pos);
    await waitForTransactions(client, engine, received, opts.applyTimeoutSeconds);
  }
  if (my) {
    await client.query('STOP REPLICA');
    await client.query('RESET REPLICA ALL');
    if (opts.semiSync) await client.query(semiSyncSource(engine, true));
    await client.query('SET PERSIST super_read_only = OFF');
    await client.query('SET PERSIST read_only = OFF');
  } else {
    await client.query('STOP SLAVE');
    await client.query('RESET SLAVE ALL');
    if (opts.semiSync) await client.query(semiSyncSource(engine, true));
    await client.query('SET GLOBAL read_only = OFF');
  }
}

/** Lets the primary, which replicates from nobody, take writes (every server starts refusing them). */
export async function openWrites(
  client: SqlClient,
  engine: Engine,
  opts: { semiSync: boolean },
): Promise<void> {
  await client.query(semiSyncSource(engine, opts.semiSync));
  if (engine === 'mysql') {
    await client.query('SET PERSIST super_read_only = OFF');
    await client.query('SET PERSIST read_only = OFF');
  } else {
    await client.query('SET GLOBAL read_only = OFF');
  }
}

/**
 * Makes the server a read-only replica of `source`, continuing from the transactions it holds (MariaDB:
 * gtid_current_pos, so that an old primary continues from its own binary log; MySQL: auto-positioning).
 */
export async function repoint(
  client: SqlClient,
  engine: Engine,
  source: SourceAddress,
  opts: { semiSync: boolean },
): Promise<void> {
  const params = [source.host, source.port, source.user, source.password];
  // A replica acknowledges; it must not wait for acknowledgements of what it applies (an old primary would).
  const semiSync = async () => {
    if (opts.semiSync) await client.query(semiSyncSource(engine, false));
  };
  if (engine === 'mysql') {
    await client.query('SET PERSIST super_read_only = ON');
    await semiSync();
    await client.query('STOP REPLICA');
    await client.query(
      `CHANGE REPLICATION SOURCE TO SOURCE_HOST = ?, SOURCE_PORT = ?, SOURCE_USER = ?, SOURCE_PASSWORD = ?,
        SOURCE_AUTO_POSITION = 1, SOURCE_CONNECT_RETRY = 1, SOURCE_RETRY_COUNT = 1000000, SOURCE_SSL = 1,
        GET_SOURCE_PUBLIC_KEY = 1`,
      params,
    );
    await client.query('START REPLICA');
  } else {
    await client.query('SET GLOBAL read_only = ON');
    await semiSync();
    await client.query('STOP SLAVE');
    await client.query(
      `CHANGE MASTER TO MASTER_HOST = ?, MASTER_PORT = ?, MASTER_USER = ?, MASTER_PASSWORD = ?,
        MASTER_CONNECT_RETRY = 1, MASTER_SSL_VERIFY_SERVER_CERT = 0, MASTER_USE_GTID = current_pos`,
      params,
    );
    await client.query('START SLAVE');
  }
}

const semiSyncSource = (engine: Engine, on: boolean) =>
  `SET GLOBAL ${engine === 'mysql' ? 'rpl_semi_sync_source_enabled' : 'rpl_semi_sync_master_enabled'} = ${on ? 'ON' : 'OFF'}`;

/**
 * Turns on semi-synchronous replication: every server acknowledges what it receives, and the primary (only
 * it: a replica that waited for acknowledgements of what it applies would stall its applier) returns a commit
 * once a replica has the transaction, or after `timeoutMs` without one, when it falls back to asynchronous
 * replication. MySQL needs the plugins loaded (plugin-load-add).
 */
export async function enableSemiSync(
  client: SqlClient,
  engine: Engine,
  opts: { role: 'primary' | 'replica'; timeoutMs: number },
): Promise<void> {
  const state = await readState(client, engine);
  if (engine === 'mysql') {
    await client.query(
      "SET GLOBAL rpl_semi_sync_source_timeout = ?, rpl_semi_sync_source_wait_point = 'AFTER_SYNC', rpl_semi_sync_replica_enabled = ON",
      [opts.timeoutMs],
    );
  } else {
    await client.query(
      "SET GLOBAL rpl_semi_sync_master_timeout = ?, rpl_semi_sync_master_wait_point = 'AFTER_SYNC', rpl_semi_sync_slave_enabled = ON",
      [opts.timeoutMs],
    );
  }
  await client.query(semiSyncSource(engine, opts.role === 'primary'));
  // A running replica reads the setting when its receiver starts.
  if (state.replica && state.replica.ioThread !== 'No') {
    await client.query(engine === 'mysql' ? 'STOP REPLICA IO_THREAD' : 'STOP SLAVE IO_THREAD');
    await client.query(engine === 'mysql' ? 'START REPLICA IO_THREAD' : 'START SLAVE IO_THREAD');
  }
}
