// A data-tier container whose server dies (a crash, an OOM kill, a failed liveness probe) is restarted by the
// kubelet in the same pod: its command runs again, as the same non-root user, on the same emptyDirs (with what
// the first start wrote there) and the same volume. Each server must come back by itself with its data.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from 'redis';
import { buildCache } from '../../src/builders/cache/index.js';
import { buildCredentialsSecret } from '../../src/builders/credentials.js';
import { freePort } from '../services/ports.js';
import { withCache, withDatabase } from '../fixtures/scalable-app.js';
import { CachePod } from './cache-pod.js';
import { APP_DATABASE, appQuery, replicaStatus, tableState, waitForProbe, waitForSync } from './clients.js';
import { builtDatabase, context } from './fixtures.js';
import { settle } from './operator-pass.js';
import { DatabasePod, startAll } from './pod.js';

describe('a MariaDB container restarting in its pod', () => {
  const db = builtDatabase(withDatabase({ engine: 'mariadb', databaseName: APP_DATABASE, replicas: 1 }));
  let primary: DatabasePod;
  let replica: DatabasePod;
  const rows = () => appQuery<{ n: number }[]>(primary, 'SELECT COUNT(*) AS n FROM orders');

  beforeAll(async () => {
    const primaryPort = await freePort();
    primary = new DatabasePod({ ...db, statefulSet: 'shop-db-primary', ordinal: 0, port: primaryPort });
    replica = new DatabasePod({ ...db, statefulSet: 'shop-db-replica', ordinal: 0, primaryPort });
    await startAll([primary, replica]);
    await settle([primary, replica], primary);
    await appQuery(primary, 'CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, item VARCHAR(64))');
    const values = Array.from({ length: 100 }, (_, i) => [`before-${i}`]);
    await appQuery(primary, 'INSERT INTO orders (item) VALUES ?', [values]);
    await waitForSync(primary, replica, 'orders');
  }, 90_000);

  afterAll(async () => {
    await Promise.all([primary, replica].filter(Boolean).map((p) => p.destroy()));
  });

  it('runs the container as its non-root user, with the ConfigMap files in their read-only mode', () => {
    // What a second start has to cope with: the first start's copies in the conf emptyDir, made by a user
    // that is not root from files of mode 0555.
    expect(statSync(join(primary.dir, 'config', 'server.cnf')).mode & 0o777).toBe(0o555);
    const copy = statSync(join(primary.dir, 'conf', '10-server.cnf'));
    expect(copy.uid).not.toBe(0);
  });

  it('a primary killed with SIGKILL starts again by itself, refusing writes until the operator opens it, with every row written before', async () => {
    await primary.restart('kill');
    expect(await rows()).toEqual([{ n: 100 }]);
    expect(await waitForProbe(primary, false)).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/read-only and not replicating/),
    });
    const [pass] = await settle([primary, replica], primary);
    expect(pass!.decision).toMatchObject({ action: 'open', pod: primary.name });
    expect(await waitForProbe(primary, true)).toMatchObject({ code: 0 });
    // Its conf.d is this start's: the server's file matches the ConfigMap's again.
    expect(readFileSync(join(primary.dir, 'conf', '10-server.cnf'), 'utf8')).toBe(
      readFileSync(join(primary.dir, 'config', 'server.cnf'), 'utf8'),
    );
    // The replica reconnects to the restarted primary and keeps copying.
    await appQuery(primary, "INSERT INTO orders (item) VALUES ('after the primary restart')");
    await waitForSync(primary, replica, 'orders');
  }, 60_000);

  it('a replica killed with SIGKILL starts again by itself, with its data, and replicates again', async () => {
    await replica.restart('kill');
    expect(await tableState(replica, 'orders')).toEqual(await tableState(primary, 'orders'));
    await appQuery(primary, "INSERT INTO orders (item) VALUES ('after the replica restart')");
    await waitForSync(primary, replica, 'orders');
    expect(await replicaStatus(replica)).toMatchObject({
      Slave_IO_Running: 'Yes',
      Slave_SQL_Running: 'Yes',
      Last_IO_Errno: 0,
      Last_SQL_Errno: 0,
    });
    expect(await waitForProbe(replica, true)).toMatchObject({ code: 0 });
  }, 60_000);

  it('both come back from a second kill too (every start is the same)', async () => {
    await Promise.all([primary.restart('kill'), replica.restart('kill')]);
    await settle([primary, replica], primary);
    expect(await rows()).toEqual([{ n: 102 }]);
    await waitForSync(primary, replica, 'orders');
    expect(await waitForProbe(replica, true)).toMatchObject({ code: 0 });
  }, 60_000);
});

describe('a Redis container restarting in its pod', () => {
  let cache: CachePod;

  beforeAll(async () => {
    const ctx = context(withCache({ persistence: 'aof' }));
    cache = await CachePod.create([...buildCredentialsSecret(ctx), ...buildCache(ctx)]);
    await cache.start();
  }, 30_000);

  afterAll(async () => {
    await cache?.destroy();
  });

  const client = async () => {
    const c = createClient({ url: cache.url, socket: { reconnectStrategy: false } });
    c.on('error', () => {});
    await c.connect();
    return c;
  };

  it('starts again by itself after a SIGKILL, twice, with every key written before', async () => {
    const writer = await client();
    for (let i = 0; i < 100; i++) await writer.set(`k${i}`, String(i));
    await writer.quit();
    for (const round of [1, 2]) {
      // appendfsync everysec: a SIGKILL of the process loses nothing the kernel holds.
      await cache.restart('kill');
      const reader = await client();
      expect(await reader.dbSize()).toBe(100 + round - 1);
      expect(await reader.get('k99')).toBe('99');
      await reader.set(`after-${round}`, 'x');
      await reader.quit();
    }
    expect(cache.log()).not.toMatch(/Permission denied/);
  }, 30_000);
});
