// Each engine's statements, against a fake client that records what it is sent and answers from a script.
// The real-server proof (MariaDB) is test/data-tier/failover.svc.test.ts; MySQL's variants are checked here.
import { describe, expect, it } from '@jest/globals';
import { format } from './gtid.js';
import { sqlClient } from './connect.js';
import { enableSemiSync, fence, promote, readState, repoint, type Row, type SqlClient } from './sql.js';

const U1 = '3e11fa47-71ca-11e1-9e33-c80aa9429562';

/** Answers each statement with the rows of the first pattern it matches (none: no rows). */
function fakeClient(answers: [RegExp, Row[] | (() => Row[])][] = []) {
  const sent: { sql: string; params: unknown[] }[] = [];
  const client: SqlClient = {
    async query(sql, params = []) {
      sent.push({ sql: sql.replace(/\s+/g, ' ').trim(), params });
      const answer = answers.find(([re]) => re.test(sql))?.[1];
      return typeof answer === 'function' ? answer() : (answer ?? []);
    },
  };
  return { client, sent, statements: () => sent.map((s) => s.sql) };
}

const MYSQL_REPLICA: [RegExp, Row[]][] = [
  [/@@gtid_executed/, [{ executed: `${U1}:1-100`, readOnly: 1 }]],
  [
    /SHOW REPLICA STATUS/,
    [
      {
        Source_Host: 'shop-db-0',
        Source_Port: 3306,
        Replica_IO_Running: 'Connecting',
        Replica_SQL_Running: 'Yes',
        Seconds_Behind_Source: null,
        Retrieved_Gtid_Set: `${U1}:90-103`,
        Last_IO_Error: "error connecting to master 'replicator@shop-db-0:3306'",
        Last_SQL_Error: '',
      },
    ],
  ],
  [/SHOW GLOBAL STATUS/, [{ Variable_name: 'Rpl_semi_sync_source_status', Value: 'OFF' }]],
];

const MARIADB_REPLICA: [RegExp, Row[]][] = [
  [/@@gtid_binlog_state/, [{ binlogState: '0-1-95', slavePos: '0-1-100', readOnly: 1 }]],
  [
    /SHOW ALL SLAVES STATUS/,
    [
      { Connection_name: 'other', Master_Host: 'elsewhere', Gtid_IO_Pos: '7-7-7' },
      {
        Connection_name: '',
        Master_Host: 'shop-db-0',
        Master_Port: 3306,
        Slave_IO_Running: 'Yes',
        Slave_SQL_Running: 'Yes',
        Seconds_Behind_Master: 2,
        Gtid_IO_Pos: '0-1-104',
        Last_IO_Error: '',
        Last_SQL_Error: '',
      },
    ],
  ],
  [
    /SHOW GLOBAL STATUS/,
    [
      { Variable_name: 'Rpl_semi_sync_master_status', Value: 'ON' },
      { Variable_name: 'Rpl_semi_sync_master_clients', Value: '2' },
    ],
  ],
];

describe('readState', () => {
  it('MySQL: executed is gtid_executed, received adds the relay log, read-only means super_read_only', async () => {
    const { client, statements } = fakeClient(MYSQL_REPLICA);
    const state = await readState(client, 'mysql');
    expect(format(state.executed)).toBe(`${U1}:1-100`);
    expect(format(state.received)).toBe(`${U1}:1-103`);
    expect(state).toMatchObject({
      readOnly: true,
      semiSyncActive: false,
      semiSyncReplicas: 0,
      replica: { sourceHost: 'shop-db-0', sourcePort: 3306, ioThread: 'Connecting', sqlRunning: true },
    });
    expect(state.replica!.lagSeconds).toBeUndefined();
    expect(state.replica!.lastError).toMatch(/error connecting/);
    expect(statements()).toContain('SELECT @@gtid_executed AS executed, @@super_read_only AS readOnly');
  });

  it('MariaDB: the default connection only; executed joins binlog state and slave position; received adds Gtid_IO_Pos', async () => {
    const { client } = fakeClient(MARIADB_REPLICA);
    const state = await readState(client, 'mariadb');
    expect(format(state.executed)).toBe('0-1:1-100');
    expect(format(state.received)).toBe('0-1:1-104');
    expect(state).toMatchObject({
      readOnly: true,
      semiSyncActive: true,
      semiSyncReplicas: 2,
      replica: { sourceHost: 'shop-db-0', lagSeconds: 2, ioThread: 'Yes' },
    });
  });

  it('a server that replicates from nobody has no replica status', async () => {
    const { client } = fakeClient([[/@@gtid_executed/, [{ executed: `${U1}:1-5`, readOnly: 0 }]]]);
    const state = await readState(client, 'mysql');
    expect(state.replica).toBeUndefined();
    expect(state.readOnly).toBe(false);
    expect(format(state.received)).toBe(`${U1}:1-5`);
  });
});

describe('fence', () => {
  const opts = { spareUsers: ['operator', 'replicator'], lockWaitSeconds: 3 };
  const clients: [RegExp, Row[]][] = [[/PROCESSLIST/, [{ id: 41 }, { id: 42 }]]];

  it('MySQL: persists super_read_only, then closes the connections of clients other than the spared users', async () => {
    const { client, sent } = fakeClient(clients);
    expect(await fence(client, 'mysql', opts)).toBe(2);
    expect(sent.map((s) => s.sql).slice(0, 3)).toEqual([
      'SET SESSION lock_wait_timeout = ?',
      'SET PERSIST super_read_only = ON',
      expect.stringMatching(
        /^SELECT ID AS id FROM information_schema.PROCESSLIST .* USER NOT IN \('system user', 'event_scheduler', \?, \?\)/,
      ),
    ]);
    expect(sent[2]!.params).toEqual(['operator', 'replicator']);
    expect(sent.filter((s) => s.sql === 'KILL CONNECTION ?').map((s) => s.params)).toEqual([[41], [42]]);
  });

  it('MariaDB: read_only; when it waits too long on a running write, closes the clients and sets it again', async () => {
    let attempts = 0;
    const { client, statements } = fakeClient(clients);
    const failingOnce: SqlClient = {
      async query(sql, params) {
        if (sql === 'SET GLOBAL read_only = ON' && attempts++ === 0) {
          await client.query(sql, params);
          throw Object.assign(new Error('Lock wait timeout exceeded'), { code: 'ER_LOCK_WAIT_TIMEOUT' });
        }
        return client.query(sql, params);
      },
    };
    await fence(failingOnce, 'mariadb', opts);
    const list = statements();
    expect(list.filter((s) => s === 'SET GLOBAL read_only = ON')).toHaveLength(2);
    expect(list.indexOf('KILL CONNECTION ?')).toBeLessThan(list.lastIndexOf('SET GLOBAL read_only = ON'));
  });

  it('a connection that ended by itself before it was killed is no error; other errors are', async () => {
    const { client } = fakeClient(clients);
    const gone = (code: string): SqlClient => ({
      query: (sql, params) =>
        sql.startsWith('KILL')
          ? Promise.reject(Object.assign(new Error('x'), { code }))
          : client.query(sql, params),
    });
    await expect(fence(gone('ER_NO_SUCH_THREAD'), 'mariadb', opts)).resolves.toBe(0);
    await expect(fence(gone('ER_SPECIFIC_ACCESS_DENIED_ERROR'), 'mariadb', opts)).rejects.toThrow('x');
  });
});

describe('promote', () => {
  it('MySQL: stops fetching, waits for the retrieved set to be executed, forgets the source, persists writable', async () => {
    const { client, sent } = fakeClient([
      ...MYSQL_REPLICA,
      [/WAIT_FOR_EXECUTED_GTID_SET/, [{ timedOut: 0 }]],
    ]);
    await promote(client, 'mysql', { applyTimeoutSeconds: 20, semiSync: true });
    expect(sent.find((s) => s.sql.includes('WAIT_FOR'))!.params).toEqual([`${U1}:90-103`]);
    expect(sent.map((s) => s.sql).filter((s) => !s.startsWith('S' + 'HOW') && !s.includes('WAIT'))).toEqual([
      'STOP REPLICA IO_THREAD',
      'STOP REPLICA',
      'RESET REPLICA ALL',
      'SET GLOBAL rpl_semi_sync_source_enabled = ON',
      'SET PERSIST super_read_only = OFF',
      'SET PERSIST read_only = OFF',
    ]);
  });

  it('MariaDB: waits with MASTER_GTID_WAIT for the received position of the default connection', async () => {
    const { client, sent } = fakeClient([...MARIADB_REPLICA, [/MASTER_GTID_WAIT/, [{ timedOut: 0 }]]]);
    await promote(client, 'mariadb', { applyTimeoutSeconds: 20, semiSync: true });
    expect(sent.find((s) => s.sql.includes('MASTER_GTID_WAIT'))!.params).toEqual(['0-1-104']);
    expect(sent.map((s) => s.sql).slice(-4)).toEqual([
      'STOP SLAVE',
      'RESET SLAVE ALL',
      'SET GLOBAL rpl_semi_sync_master_enabled = ON',
      'SET GLOBAL read_only = OFF',
    ]);
  });

  it('keeps waiting, a second per statement, while the replica applies slowly', async () => {
    let calls = 0;
    const { client, statements } = fakeClient([
      ...MARIADB_REPLICA,
      [/MASTER_GTID_WAIT/, () => [{ timedOut: ++calls < 3 ? -1 : 0 }]],
    ]);
    await promote(client, 'mariadb', { applyTimeoutSeconds: 20, semiSync: false });
    expect(statements().filter((s) => s === 'SELECT MASTER_GTID_WAIT(?, 1) AS timedOut')).toHaveLength(3);
    expect(statements().at(-1)).toBe('SET GLOBAL read_only = OFF');
  });

  it.each([
    ['MySQL', 'mysql', MYSQL_REPLICA, /WAIT_FOR_EXECUTED_GTID_SET/, 1],
    ['MariaDB', 'mariadb', MARIADB_REPLICA, /MASTER_GTID_WAIT/, -1],
  ] as const)(
    '%s: a replica that cannot apply what it received in time is not made writable',
    async (_name, engine, answers, wait, timedOut) => {
      const { client, statements } = fakeClient([...answers, [wait, [{ timedOut }]]]);
      await expect(promote(client, engine, { applyTimeoutSeconds: 5, semiSync: true })).rejects.toThrow(
        /did not apply .* within 5 s/,
      );
      expect(statements().join('\n')).not.toMatch(/read_only = OFF|RESET/);
    },
  );
});

describe('repoint', () => {
  const source = { host: 'shop-db-1', port: 3306, user: 'replicator', password: "p'w" };

  it('MySQL: read-only first, then auto-positioning on the new source, with the values as parameters', async () => {
    const { client, sent } = fakeClient();
    await repoint(client, 'mysql', source, { semiSync: true });
    expect(sent.map((s) => s.sql.split(' SOURCE_HOST')[0])).toEqual([
      'SET PERSIST super_read_only = ON',
      'SET GLOBAL rpl_semi_sync_source_enabled = OFF',
      'STOP REPLICA',
      'CHANGE REPLICATION SOURCE TO',
      'START REPLICA',
    ]);
    expect(sent[3]!.sql).toMatch(/SOURCE_AUTO_POSITION = 1/);
    expect(sent[3]!.sql).not.toContain("p'w");
    expect(sent[3]!.params).toEqual(['shop-db-1', 3306, 'replicator', "p'w"]);
  });

  it('MariaDB: continues from gtid_current_pos, so an old primary continues from its own binary log', async () => {
    const { client, sent } = fakeClient();
    await repoint(client, 'mariadb', source, { semiSync: false });
    expect(sent[0]!.sql).toBe('SET GLOBAL read_only = ON');
    expect(sent[2]!.sql).toMatch(/^CHANGE MASTER TO .*MASTER_USE_GTID = current_pos$/);
    expect(sent.at(-1)!.sql).toBe('START SLAVE');
  });
});

describe('enableSemiSync', () => {
  it('MySQL: a replica acknowledges but waits for no acknowledgement; a running receiver restarts to pick it up', async () => {
    const { client, sent } = fakeClient(MYSQL_REPLICA);
    await enableSemiSync(client, 'mysql', { role: 'replica', timeoutMs: 5000 });
    const set = sent.find((s) => s.sql.startsWith('SET GLOBAL'))!;
    expect(set.sql).toMatch(/rpl_semi_sync_source_timeout = \?.*rpl_semi_sync_replica_enabled = ON/);
    expect(set.params).toEqual([5000]);
    expect(sent.map((s) => s.sql)).toContain('SET GLOBAL rpl_semi_sync_source_enabled = OFF');
    expect(sent.map((s) => s.sql).slice(-2)).toEqual(['STOP REPLICA IO_THREAD', 'START REPLICA IO_THREAD']);
  });

  it('MariaDB: the primary waits for acknowledgements; replicating from nobody, it has no receiver to restart', async () => {
    const { client, statements } = fakeClient([
      [/@@gtid_binlog_state/, [{ binlogState: '', slavePos: '', readOnly: 0 }]],
    ]);
    await enableSemiSync(client, 'mariadb', { role: 'primary', timeoutMs: 5000 });
    expect(statements().at(-1)).toBe('SET GLOBAL rpl_semi_sync_master_enabled = ON');
  });
});

describe('the connection wrapper', () => {
  it('never passes on a password: not the statement mysql2 attaches, nor the value quoted in the message', async () => {
    const secret = `s3cr'et pw`;
    const conn = {
      async query() {
        throw Object.assign(
          new Error(`You have an error in your SQL syntax near 'MASTER_PASSWORD = 's3cr\\'et pw'' at line 1`),
          { code: 'ER_PARSE_ERROR', sql: `CHANGE MASTER TO MASTER_PASSWORD = 's3cr\\'et pw'` },
        );
      },
      async end() {},
      destroy() {},
    };
    const client = sqlClient(conn, 1000);
    const error = await client
      .query('CHANGE MASTER TO MASTER_PASSWORD = ?', [secret])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'SqlError', code: 'ER_PARSE_ERROR' });
    const everything = JSON.stringify(error) + String(error) + (error as Error).stack;
    expect(everything).toMatch(/^.*CHANGE MASTER TO/);
    expect(everything).not.toContain('s3cr');
  });
});
