// Shards on real MariaDB servers: independent primaries from the generated config, and the shard map
// routing keys to them.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { shardForKey } from '../../src/api/sharding.js';
import { withDatabase, withShards } from '../fixtures/scalable-app.js';
import { APP_DATABASE, appQuery } from './clients.js';
import { builtDatabase } from './fixtures.js';
import { settle } from './operator-pass.js';
import { DatabasePod, startAll } from './pod.js';

const SHARDS = 3;
const db = builtDatabase(
  withDatabase({ engine: 'mariadb', databaseName: APP_DATABASE, replicas: 0 }),
  withShards(SHARDS, 0),
);
const count = db.app.spec.database!.shards.count;
const shards = Array.from(
  { length: count },
  (_, i) => new DatabasePod({ ...db, statefulSet: `shop-db-shard-${i}-primary`, ordinal: 0 }),
);
const keys = Array.from({ length: 10_000 }, (_, i) => `customer:${i}`);

beforeAll(async () => {
  await startAll(shards);
  for (const s of shards) await settle([s], s);
}, 60_000);

afterAll(async () => {
  await Promise.all(shards.map((s) => s.destroy()));
});

describe('shards from the generated config', () => {
  it(`runs ${SHARDS} independent primaries, each with its own server-id, database and app user`, async () => {
    expect(count).toBe(SHARDS);
    const ids = await Promise.all(
      shards.map(async (s) => (await s.server!.query<{ id: number }[]>('SELECT @@server_id AS id'))[0]!.id),
    );
    expect(ids).toEqual([101, 201, 301]);
    for (const s of shards) {
      expect(await s.probe('readiness')).toMatchObject({ code: 0 });
      await appQuery(s, 'CREATE TABLE customers (k VARCHAR(32) PRIMARY KEY)');
    }
  });

  it('stores 10,000 keys where the shard map routes them, within 10% of even', async () => {
    const routed = keys.map((k) => shardForKey(k, count));
    for (const [i, s] of shards.entries()) {
      const mine = keys.filter((_, j) => routed[j] === i).map((k) => [k]);
      await appQuery(s, 'INSERT INTO customers (k) VALUES ?', [mine]);
    }
    const stored = await Promise.all(
      shards.map(
        async (s) => (await appQuery<{ n: number }[]>(s, 'SELECT COUNT(*) AS n FROM customers'))[0]!.n,
      ),
    );
    console.log(`10,000 keys over ${count} shards: ${stored.join(', ')}`);
    expect(stored.reduce((a, b) => a + b)).toBe(keys.length);
    for (const n of stored)
      expect(Math.abs(n - keys.length / count)).toBeLessThan((0.1 * keys.length) / count);
  });

  it('finds every key on the shard it routes to, the same shard every time, and on no other', async () => {
    const sample = keys.filter((_, i) => i % 10 === 0);
    for (const [i, s] of shards.entries()) {
      const rows = await appQuery<{ k: string }[]>(s, 'SELECT k FROM customers WHERE k IN (?)', [sample]);
      const found = new Set(rows.map((r) => r.k));
      for (const k of sample) expect([k, found.has(k)]).toEqual([k, shardForKey(k, count) === i]);
    }
  });
});
