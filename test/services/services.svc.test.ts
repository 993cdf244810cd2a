import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createConnection } from 'node:net';
import { createClient } from 'redis';
import { type MariaDBServer, startMariaDB } from './mariadb.js';
import { type RedisServer, startRedis } from './redis.js';

describe('test services harness', () => {
  let db: MariaDBServer;
  let redis: RedisServer;
  beforeAll(async () => {
    [db, redis] = await Promise.all([startMariaDB({ name: 'harness' }), startRedis()]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([db?.destroy(), redis?.destroy()]);
  });

  it('runs a real MariaDB that keeps data across a restart', async () => {
    await db.query('CREATE DATABASE t; CREATE TABLE t.x (v INT); INSERT INTO t.x VALUES (42)');
    await db.stop();
    await db.start();
    const rows = await db.query<{ v: number }[]>('SELECT v FROM t.x');
    expect(rows).toEqual([{ v: 42 }]);
    expect((await db.query<{ v: string }[]>('SELECT VERSION() AS v'))[0]!.v).toMatch(/MariaDB/);
  });

  it("starts MariaDB on its socket only with skipNetworking (the entrypoint's temporary server), then on TCP", async () => {
    const tcp = (port: number) =>
      new Promise<'open' | 'refused'>((resolve) => {
        const socket = createConnection({ host: '127.0.0.1', port });
        socket.once('connect', () => (socket.destroy(), resolve('open')));
        socket.once('error', () => resolve('refused'));
      });
    const temp = await startMariaDB({ name: 'harness-temp', skipNetworking: true });
    try {
      expect(await tcp(temp.port)).toBe('refused');
      expect(await temp.query('SELECT 1 AS one')).toEqual([{ one: 1 }]); // the socket works
      await temp.stop();
      await temp.start();
      expect(await tcp(temp.port)).toBe('open');
    } finally {
      await temp.destroy();
    }
  }, 60_000);

  it('runs a real Redis on its own port', async () => {
    const client = createClient({ url: redis.url });
    await client.connect();
    await client.set('k', 'v');
    expect(await client.get('k')).toBe('v');
    await client.quit();
  });
});
