// The shop's side of the resharding contract against real servers (a main primary and two shard primaries): it
// routes orders by the map in `_sapp_shard_map`, sees a change of the map within about a second, makes an order of
// a moving bucket wait until the map flips (the flip is done here by hand, as the operator's mover would), and
// fills `shard_bucket` in rows written before it existed. The operator's tables are created with the contract's
// DDL.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { type MariaDBServer } from '../../../test/services/mariadb.js';
import { call, cookieOf } from '../test/client.js';
import { startShopServers, type ShopServers } from '../test/servers.js';
import { createShopApp, type ShopApp, type ShopAppOptions } from './app.js';
import { parseConfig } from './config.js';
import { bucketForKey, shardMap } from './shards.js';

const BUCKETS = 1024;
const WRITE_DEADLINE_MS = 3_000;

const MAP_DDL = `CREATE TABLE IF NOT EXISTS shop._sapp_shard_map (
  id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
  version BIGINT UNSIGNED NOT NULL,
  owners MEDIUMTEXT NOT NULL,
  moving MEDIUMTEXT NOT NULL,
  progress MEDIUMTEXT NOT NULL,
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB`;
const FENCE_DDL = `CREATE TABLE IF NOT EXISTS shop._sapp_shard_buckets (
  bucket SMALLINT UNSIGNED NOT NULL PRIMARY KEY,
  state VARCHAR(16) NOT NULL
) ENGINE=InnoDB`;

describe('the shop on a shard map that changes', () => {
  let servers: ShopServers;
  let app: ShopApp;
  const running = new Set<ShopApp>();
  /** The owners the test last published. */
  let owners = shardMap(2, BUCKETS);

  async function startApp(options: ShopAppOptions = {}): Promise<ShopApp> {
    const instance = createShopApp(parseConfig({ ...servers.env('shop'), PORT: '0', POD_NAME: 'map-pod' }), {
      logger: pino({ level: 'silent' }),
      host: '127.0.0.1',
      writeDeadlineMs: WRITE_DEADLINE_MS,
      ...options,
    });
    running.add(instance);
    await instance.start();
    return instance;
  }

  /** The primary of a group: -1 the main database, i shard i. */
  const group = (owner: number): MariaDBServer =>
    owner === -1 ? servers.main : servers.shards[owner]!.primary;

  const setFence = (owner: number, bucket: number, state: string) =>
    group(owner).query(
      'INSERT INTO shop._sapp_shard_buckets (bucket, state) VALUES (?, ?) ON DUPLICATE KEY UPDATE state = ?',
      [bucket, state, state],
    );

  async function publish(next: number[], moving: number[] = []): Promise<void> {
    owners = next;
    await servers.main.query(
      'UPDATE shop._sapp_shard_map SET owners = ?, moving = ?, version = version + 1 WHERE id = 1',
      [next.join(','), moving.join(',')],
    );
  }

  /** A customer whose bucket the current owners give to `owner`, from `from` on. */
  function customerOwnedBy(owner: number, from: number): number {
    for (let id = from; ; id++) if (owners[bucketForKey(id, BUCKETS)] === owner) return id;
  }

  async function order(instance: ShopApp, customer: number, productId = 5) {
    const cart = await call(instance, '/cart', { method: 'POST', body: { productId, customer } });
    expect(cart.status).toBe(200);
    return call(instance, '/orders', { method: 'POST', cookie: cookieOf(cart)! });
  }

  async function ordersOn(owner: number, customer: number): Promise<{ id: number; bucket: number | null }[]> {
    return group(owner).query('SELECT id, shard_bucket AS bucket FROM shop.orders WHERE customer_id = ?', [
      customer,
    ]);
  }

  async function stockOf(productId: number): Promise<number> {
    const [row] = await servers.main.query<{ stock: number }[]>(
      'SELECT stock FROM shop.inventory WHERE product_id = ?',
      [productId],
    );
    return row!.stock;
  }

  beforeAll(async () => {
    servers = await startShopServers({ shards: 2 });
    await servers.createDatabase('shop');
    app = await startApp();
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled([...running].map((a) => a.stop()));
    await servers?.stop();
  }, 30_000);

  it('routes by the static map while there is no map table, then by the table once the operator creates it', async () => {
    expect(app.shardMap.peek()).toMatchObject({ source: 'static', version: 0 });
    // The operator's side: fences on every group, then the map (version 1); bucket b of customer c moved to the
    // main database, which the static map would never choose.
    const customer = 5_001;
    const bucket = bucketForKey(customer, BUCKETS);
    const statically = shardMap(2, BUCKETS)[bucket]!;
    await Promise.all([-1, 0, 1].map((g) => group(g).query(FENCE_DDL)));
    const initial = shardMap(2, BUCKETS);
    initial[bucket] = -1;
    for (const g of [-1, 0, 1]) {
      const held = initial.flatMap((owner, b) => (owner === g ? [[b, 'owned']] : []));
      await group(g).query('INSERT INTO shop._sapp_shard_buckets (bucket, state) VALUES ?', [held]);
    }
    await servers.main.query(MAP_DDL);
    await servers.main.query(
      "INSERT INTO shop._sapp_shard_map (id, version, owners, moving, progress) VALUES (1, 1, ?, '', '')",
      [initial.join(',')],
    );
    owners = initial;
    await app.shardMap.refresh();
    expect(app.shardMap.peek()).toMatchObject({ source: 'table', version: 1 });

    const placed = await order(app, customer);
    expect(placed).toMatchObject({ status: 201, body: { customer, shard: null } });
    expect(await ordersOn(-1, customer)).toEqual([{ id: placed.body.id, bucket }]);
    expect(await ordersOn(statically, customer)).toEqual([]);
    const [items] = await servers.main.query<{ buckets: string }[]>(
      'SELECT GROUP_CONCAT(DISTINCT shard_bucket) AS buckets FROM shop.order_items WHERE order_id = ?',
      [placed.body.id],
    );
    expect(items!.buckets).toBe(String(bucket));
    const listed = await call(app, `/orders?customer=${customer}`);
    expect(listed.body).toMatchObject({ customer, shard: null, orders: [{ id: placed.body.id }] });
  });

  it('sees a change of the map within about a second, without a restart', async () => {
    const customer = customerOwnedBy(0, 6_000);
    const bucket = bucketForKey(customer, BUCKETS);
    expect((await call(app, `/orders?customer=${customer}`)).body.shard).toBe(0);
    const next = [...owners];
    next[bucket] = 1;
    const changed = performance.now();
    await publish(next);
    let seenAfter = Infinity;
    while (performance.now() - changed < 5_000) {
      if ((await call(app, `/orders?customer=${customer}`)).body.shard === 1) {
        seenAfter = performance.now() - changed;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    console.log(`a change of the shard map was seen by the shop after ${Math.round(seenAfter)} ms`);
    expect(seenAfter).toBeLessThan(1_200); // SHARD_MAP_REFRESH_MS is 500
  });

  it('holds an order of a moving bucket until the map flips, then writes it on the new owner', async () => {
    const customer = customerOwnedBy(1, 7_000);
    const bucket = bucketForKey(customer, BUCKETS);
    // The mover's pause and fence: the map lists the bucket as moving, the source's fence says so.
    await publish(owners, [bucket]);
    await setFence(1, bucket, 'moving');
    const stock = await stockOf(6);
    const started = performance.now();
    const pending = order(app, customer, 6);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await ordersOn(1, customer)).toEqual([]);
    expect(await ordersOn(0, customer)).toEqual([]);
    // The flip: the destination (shard 0) owns the bucket, the map says so, the source's fence says moved.
    await setFence(0, bucket, 'owned');
    const next = [...owners];
    next[bucket] = 0;
    await publish(next, []);
    await setFence(1, bucket, 'moved');
    const placed = await pending;
    const waited = performance.now() - started;
    console.log(`an order of a moving bucket waited ${Math.round(waited)} ms and landed on the new owner`);
    expect(placed).toMatchObject({ status: 201, body: { customer, shard: 0 } });
    expect(waited).toBeGreaterThanOrEqual(1_000);
    expect(waited).toBeLessThan(WRITE_DEADLINE_MS);
    expect(await ordersOn(0, customer)).toEqual([{ id: placed.body.id, bucket }]);
    expect(await ordersOn(1, customer)).toEqual([]);
    expect(await stockOf(6)).toBe(stock - 1);
  });

  it('refuses (503) an order whose bucket is still moving at the deadline, and gives its stock back', async () => {
    const customer = customerOwnedBy(0, 8_000);
    const bucket = bucketForKey(customer, BUCKETS);
    await setFence(0, bucket, 'moving');
    await publish(owners, [bucket]);
    const stock = await stockOf(7);
    const refused = await order(app, customer, 7);
    expect(refused).toMatchObject({ status: 503, body: { unavailable: `bucket-${bucket}` } });
    expect(refused.ms).toBeGreaterThanOrEqual(WRITE_DEADLINE_MS);
    expect(refused.ms).toBeLessThan(WRITE_DEADLINE_MS + 1_500);
    expect(await ordersOn(0, customer)).toEqual([]);
    expect(await stockOf(7)).toBe(stock);
    await publish(owners, []);
    await setFence(0, bucket, 'owned');
  }, 15_000);

  it('writes nothing where the fence is not owned even if the map in hand says so (a stale map)', async () => {
    const customer = customerOwnedBy(0, 9_000);
    const bucket = bucketForKey(customer, BUCKETS);
    // The table moves the bucket to shard 1 and the fences follow, but the app is told nothing: its next write
    // finds shard 0's fence `moved`, reads the map again and writes on shard 1.
    await setFence(1, bucket, 'owned');
    await setFence(0, bucket, 'moved');
    const next = [...owners];
    next[bucket] = 1;
    await publish(next);
    const placed = await order(app, customer);
    expect(placed).toMatchObject({ status: 201, body: { customer, shard: 1 } });
    expect(await ordersOn(0, customer)).toEqual([]);
    expect(await ordersOn(1, customer)).toEqual([{ id: placed.body.id, bucket }]);
  });

  it('fills shard_bucket at start in orders and their items written before it existed', async () => {
    const customers = [10_001, 10_002, 10_003];
    const shard = servers.shards[1]!.primary;
    for (const customer of customers) {
      await shard.query('INSERT INTO shop.orders (customer_id, total_cents) VALUES (?, 100)', [customer]);
      await shard.query(
        `INSERT INTO shop.order_items (order_id, product_id, name, quantity, price_cents)
         SELECT id, p, 'old', 1, 50 FROM shop.orders, (SELECT 1 AS p UNION SELECT 2) ps WHERE customer_id = ?`,
        [customer],
      );
    }
    // Their buckets must be owned here for the backfill to fill them (it writes behind the fence, like orders).
    for (const customer of customers) await setFence(1, bucketForKey(customer, BUCKETS), 'owned');
    const nulls = async () =>
      (
        await shard.query<{ n: number }[]>(
          `SELECT (SELECT COUNT(*) FROM shop.orders WHERE shard_bucket IS NULL)
                + (SELECT COUNT(*) FROM shop.order_items WHERE shard_bucket IS NULL) AS n`,
        )
      )[0]!.n;
    expect(await nulls()).toBe(9);
    await startApp();
    expect(await nulls()).toBe(0);
    for (const customer of customers) {
      const rows = await shard.query<{ orderBucket: number; itemBucket: number }[]>(
        `SELECT o.shard_bucket AS orderBucket, oi.shard_bucket AS itemBucket
           FROM shop.orders o JOIN shop.order_items oi ON oi.order_id = o.id WHERE o.customer_id = ?`,
        [customer],
      );
      expect(rows).toEqual([
        { orderBucket: bucketForKey(customer, BUCKETS), itemBucket: bucketForKey(customer, BUCKETS) },
        { orderBucket: bucketForKey(customer, BUCKETS), itemBucket: bucketForKey(customer, BUCKETS) },
      ]);
    }
  }, 30_000);
});
