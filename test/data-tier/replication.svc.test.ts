// A primary and its replicas on real MariaDB servers, configured and bootstrapped by exactly the files and
// scripts buildDatabase puts into its ConfigMap.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { freePort, sleep, waitFor } from '../services/ports.js';
import { withDatabase } from '../fixtures/scalable-app.js';
import {
  APP_DATABASE,
  appConnection,
  appQuery,
  replicaStatus,
  tableState,
  waitForProbe,
  waitForSync,
} from './clients.js';
import { builtDatabase, CREDENTIALS } from './fixtures.js';
import { settle } from './operator-pass.js';
import { DatabasePod, startAll } from './pod.js';

const db = builtDatabase(withDatabase({ engine: 'mariadb', databaseName: APP_DATABASE, replicas: 2 }));
const pods: DatabasePod[] = [];
let primaryPort: number;

const pod = (
  statefulSet: string,
  ordinal: number,
  extra: { port?: number; env?: Record<string, string> } = {},
) => {
  const p = new DatabasePod({ ...db, statefulSet, ordinal, primaryPort, ...extra });
  pods.push(p);
  return p;
};

let primary: DatabasePod;
let replicas: DatabasePod[];

const insertRows = async (n: number, item = 'x') => {
  const values = Array.from({ length: n }, (_, i) => [`${item}-${i}`]);
  await appQuery(primary, 'INSERT INTO orders (item) VALUES ?', [values]);
};

beforeAll(async () => {
  primaryPort = await freePort();
  primary = pod('shop-db-primary', 0, { port: primaryPort });
  replicas = [pod('shop-db-replica', 0), pod('shop-db-replica', 1)];
  // All at once, as the StatefulSets start them: the replicas' bootstrap waits for the primary.
  await startAll(pods);
  // Every server starts refusing writes; the operator opens the primary (and turns semi-sync on there).
  await settle(pods, primary);
  await appQuery(
    primary,
    'CREATE TABLE orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, item VARCHAR(64) NOT NULL, at TIMESTAMP(3) DEFAULT CURRENT_TIMESTAMP(3))',
  );
}, 90_000);

afterAll(async () => {
  await Promise.all(pods.map((p) => p.destroy()));
});

describe('a primary and two replicas from the generated config and bootstrap', () => {
  it('gives every server its own server-id, and every probe passes', async () => {
    const ids = await Promise.all(
      [primary, ...replicas].map(
        async (p) => (await p.server!.query<{ id: number }[]>('SELECT @@server_id AS id'))[0]!.id,
      ),
    );
    expect(ids).toEqual([1, 11, 12]);
    for (const p of [primary, ...replicas]) {
      expect(await waitForProbe(p, true)).toMatchObject({ code: 0 });
      expect(await p.probe('liveness')).toMatchObject({ code: 0 });
    }
  });

  it('refuses root over TCP, even with the right password; root on the local socket works', async () => {
    for (const p of [primary, ...replicas]) {
      const tcp = mysql.createConnection({
        host: '127.0.0.1',
        port: p.server!.port,
        user: 'root',
        password: CREDENTIALS.rootPassword,
      });
      await expect(tcp).rejects.toMatchObject({ code: 'ER_ACCESS_DENIED_ERROR' });
      expect(await p.server!.query('SELECT CURRENT_USER() AS me')).toEqual([{ me: 'root@localhost' }]);
      expect(
        await p.server!.query<{ host: string }[]>("SELECT Host AS host FROM mysql.user WHERE User = 'root'"),
      ).toEqual([{ host: 'localhost' }]);
    }
  });

  it('copies a row written to the primary to every replica', async () => {
    await appQuery(primary, "INSERT INTO orders (item) VALUES ('first order')");
    for (const r of replicas) {
      await waitForSync(primary, r, 'orders');
      expect(await appQuery(r, 'SELECT item FROM orders')).toEqual([{ item: 'first order' }]);
    }
  });

  it('refuses writes of the app user on a replica (read_only), and serves its reads', async () => {
    await expect(appQuery(replicas[0]!, "INSERT INTO orders (item) VALUES ('nope')")).rejects.toMatchObject({
      code: 'ER_OPTION_PREVENTS_STATEMENT',
    });
    await expect(appQuery(replicas[0]!, 'SELECT COUNT(*) AS n FROM orders')).resolves.toEqual([{ n: 1 }]);
  });

  it('grants the app user its database and no other (the _ in shop_db is no wildcard)', async () => {
    await expect(appQuery(primary, 'CREATE DATABASE shopXdb')).rejects.toMatchObject({
      code: 'ER_DBACCESS_DENIED_ERROR',
    });
    await expect(appQuery(primary, 'CREATE TABLE scratch (id INT)')).resolves.toBeDefined();
  });

  it('a replica added after the primary purged its binary logs copies the data and catches up', async () => {
    for (let i = 0; i < 10; i++) await insertRows(500, `batch${i}`);
    await primary.server!.query('FLUSH BINARY LOGS');
    await primary.server!.query('PURGE BINARY LOGS BEFORE NOW()');
    const logs = await primary.server!.query<{ Log_name: string }[]>('SHOW BINARY LOGS');
    // The transactions that created the users, the table and the rows are in no binary log any more.
    expect(logs.map((l) => l.Log_name)).not.toContain('mysql-bin.000001');

    const started = Date.now();
    const late = pod('shop-db-replica', 2);
    await late.start();
    await waitForSync(primary, late, 'orders');
    await waitForProbe(late, true);
    const catchUpMs = Date.now() - started;
    console.log(
      `a replica added after a binlog purge caught up with ${(await tableState(primary, 'orders')).rows} rows in ${catchUpMs} ms`,
    );

    await appQuery(primary, "INSERT INTO orders (item) VALUES ('after the late replica')");
    await waitForSync(primary, late, 'orders');
    expect(await late.server!.query('SELECT @@server_id AS id')).toEqual([{ id: 13 }]);
  }, 60_000);

  it('replicas resume without errors after a SIGKILL and a restart in the middle of a stream of writes', async () => {
    let writing = true;
    let written = 0;
    const conn = await appConnection(primary);
    const writer = (async () => {
      while (writing) {
        await conn.query('INSERT INTO orders (item) VALUES (?)', [`stream-${written}`]);
        written++;
      }
    })();
    await sleep(700);
    const beforeRestarts = written;
    await replicas[0]!.restart('kill');
    await sleep(500);
    await replicas[1]!.restart('stop');
    const duringRestarts = written - beforeRestarts;
    // At least 500 rows in the stream however busy the machine (a fixed time wrote 357 under load).
    await waitFor('500 rows in the stream', async () => written >= 500);
    await sleep(700);
    writing = false;
    await writer;
    await conn.end();
    console.log(
      `${written} rows written, ${duringRestarts} of them while one replica was killed and another restarted`,
    );
    expect(duringRestarts).toBeGreaterThan(0);

    for (const r of replicas) {
      await waitForSync(primary, r, 'orders');
      expect(await replicaStatus(r)).toMatchObject({
        Slave_IO_Running: 'Yes',
        Slave_SQL_Running: 'Yes',
        Last_IO_Errno: 0,
        Last_SQL_Errno: 0,
      });
      expect(await r.probe('readiness')).toMatchObject({ code: 0 });
    }
  }, 60_000);

  it('replica readiness fails while the primary is down and passes again once it is back', async () => {
    const replica = replicas[0]!;
    await primary.server!.stop();
    const down = await waitForProbe(replica, false);
    expect(down.stderr).toMatch(/read-only and not replicating \(IO: Connecting/);
    await primary.server!.start();
    await waitForProbe(replica, true);
    // The primary came back refusing writes, as every server starts: the operator opens it again.
    await settle(pods.slice(0, 3), primary);
  }, 60_000);

  it("replica readiness fails while the replication user's password is wrong", async () => {
    const replica = replicas[1]!;
    const setPassword = (pw: string) =>
      primary.server!.query("SET SESSION sql_log_bin = 0; ALTER USER replicator@'%' IDENTIFIED BY ?", [pw]);
    await setPassword('not the one in the secret');
    await replica.server!.query('STOP REPLICA IO_THREAD; START REPLICA IO_THREAD');
    const broken = await waitForProbe(replica, false);
    expect(broken.stderr).toMatch(/Access denied for user 'replicator'/);
    await setPassword(CREDENTIALS.replicationPassword);
    await waitForProbe(replica, true);
  }, 60_000);

  it('replica readiness fails while the replica lags the primary by more than the limit', async () => {
    const replica = replicas[0]!;
    const lock = await replica.server!.root(APP_DATABASE);
    try {
      await lock.query('LOCK TABLES orders WRITE');
      await appQuery(primary, "INSERT INTO orders (item) VALUES ('held up')");
      const lagging = await waitForProbe(replica, false, { REPLICA_MAX_LAG_SECONDS: '1' });
      expect(lagging.stderr).toMatch(/lags the primary by [2-9] s/);
    } finally {
      await lock.query('UNLOCK TABLES');
      await lock.end();
    }
    await waitForProbe(replica, true, { REPLICA_MAX_LAG_SECONDS: '1' });
  }, 30_000);

  it('primary readiness fails while it refuses writes; liveness fails once the server is gone', async () => {
    await primary.server!.query('SET GLOBAL read_only = ON');
    expect(await primary.probe('readiness')).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/read-only and not replicating/),
    });
    await primary.server!.query('SET GLOBAL read_only = OFF');
    expect(await primary.probe('readiness')).toMatchObject({ code: 0 });

    const replica = replicas[1]!;
    await replica.server!.stop();
    expect((await replica.probe('liveness')).code).not.toBe(0);
    expect((await replica.probe('readiness')).code).not.toBe(0);
    await replica.start();
    await waitForProbe(replica, true);
  }, 60_000);

  it('a replica whose first bootstrap broke off is emptied and bootstrapped again on its next start', async () => {
    const replica = pod('shop-db-replica', 3, {
      env: { PRIMARY_PORT: String(await freePort()), PRIMARY_WAIT_SECONDS: '2' },
    });
    await expect(replica.start()).rejects.toThrow(/did not answer/);
    const volume = join(replica.dir, 'volume');
    expect(existsSync(join(volume, 'bootstrap-pending'))).toBe(true);
    expect(readdirSync(join(volume, 'mysql'))).toContain('mysql');

    replica.env = {};
    await replica.start();
    expect(replica.log.join('\n')).toMatch(/did not finish: emptying/);
    expect(existsSync(join(volume, 'bootstrap-pending'))).toBe(false);
    await waitForSync(primary, replica, 'orders');
    await waitForProbe(replica, true);
  }, 60_000);
});
