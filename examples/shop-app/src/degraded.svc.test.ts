// The shop when a data store is down, against real servers: a replica that hangs (SIGSTOP) or crashes (SIGKILL), a
// shard primary that is gone, Redis gone or hung. The pod stays ready (/readyz is about this pod, not the shared
// stores), serves everything that does not need the missing store (reads move to the primary), and fails only
// what needs it, with a 503 that names it. When the store is back, the shop uses it again by itself.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { waitFor } from '../../../test/services/ports.js';
import { call, cookieOf, type Res } from '../test/client.js';
import { startShopServers, type ShopServers } from '../test/servers.js';
import { createShopApp, type ShopApp } from './app.js';
import { parseConfig } from './config.js';
import { SEED_PRODUCT_COUNT } from './migrations.js';
import { shardForKey } from './shards.js';

/** A customer id whose orders live on `shard` of 2. */
function customerOn(shard: number, from: number): number {
  for (let id = from; ; id++) if (shardForKey(id, 2, 1024) === shard) return id;
}

const READ_TIMEOUT_MS = 500;

describe('the shop with a data store down', () => {
  let servers: ShopServers;
  let app: ShopApp;

  /** Queries by target, without the shard map's reads (a timer on a pool of their own, not the requests'). */
  async function queries(): Promise<Record<string, number>> {
    const { values } = await app.metrics.dbQueries.get();
    return Object.fromEntries(
      values.filter((v) => v.labels.target !== 'shard-map').map((v) => [String(v.labels.target), v.value]),
    );
  }
  /** Queries per target that `run` caused. */
  async function queriesDuring(run: () => Promise<void>): Promise<Record<string, number>> {
    const before = await queries();
    await run();
    const after = await queries();
    return Object.fromEntries(
      Object.entries(after)
        .map(([target, n]) => [target, n - (before[target] ?? 0)])
        .filter(([, n]) => n !== 0),
    );
  }

  /** A session with `productId` in its cart for `customer`; its cookie. */
  async function cartFor(customer: number, productId: number): Promise<string> {
    const res = await call(app, '/cart', { method: 'POST', body: { productId, customer } });
    expect(res.status).toBe(200);
    return cookieOf(res)!;
  }

  async function stockOf(productId: number): Promise<number> {
    const [row] = await servers.main.query<{ stock: number }[]>(
      'SELECT stock FROM shop.inventory WHERE product_id = ?',
      [productId],
    );
    return row!.stock;
  }

  beforeAll(async () => {
    servers = await startShopServers({ mainReplica: true, shards: 2, shardReplicas: [0] });
    await servers.createDatabase('shop');
    app = createShopApp(parseConfig({ ...servers.env('shop'), PORT: '0', POD_NAME: 'degraded-pod' }), {
      logger: pino({ level: 'silent' }),
      host: '127.0.0.1',
      secondDeleteMs: 100,
      readTimeoutMs: READ_TIMEOUT_MS,
      probeIntervalMs: 200,
    });
    await app.start();
    await servers.syncReplicas();
  }, 120_000);

  afterAll(async () => {
    servers?.mainReplica?.resume();
    servers?.redis.resume();
    await app?.stop();
    await servers?.stop();
  }, 60_000);

  it('stays ready while the replica hangs, serves pages and the catalog from the primary, and goes back', async () => {
    const replica = servers.mainReplica!;
    replica.pause();
    try {
      // The first read finds it silent: given up after the read time limit, answered from the primary.
      let page: Res | undefined;
      const first = await queriesDuring(async () => {
        page = await call(app, '/products/13');
      });
      expect(page).toMatchObject({ status: 200, body: { id: 13 } });
      expect(page!.headers.get('x-cache')).toBe('miss');
      expect(page!.ms).toBeLessThan(READ_TIMEOUT_MS + 2_000);
      expect(first.primary).toBe(4); // product, inventory, reviews, related

      // Later reads go straight to the primary: no wait, the replica is not asked.
      const later = await queriesDuring(async () => {
        const catalog = await call(app, '/');
        expect(catalog.status).toBe(200);
        expect(catalog.body.products).toHaveLength(SEED_PRODUCT_COUNT);
        expect(catalog.ms).toBeLessThan(READ_TIMEOUT_MS);
        expect((await call(app, '/products/14')).status).toBe(200);
      });
      expect(later).toEqual({ primary: 5 });

      // Orders do not need the replica.
      const customer = customerOn(1, 100);
      const order = await call(app, '/orders', { method: 'POST', cookie: await cartFor(customer, 2) });
      expect(order).toMatchObject({ status: 201, body: { customer, shard: 1 } });

      // This pod can serve: ready, and the report says what is down, in well under a probe's 1 s.
      const ready = await call(app, '/readyz');
      expect(ready.status).toBe(200);
      expect(ready.ms).toBeLessThan(1_000);
      expect(ready.body.checks).toEqual({ migrations: 'ok', shutdown: 'ok' });
      const dependencies = ready.body.dependencies as Record<string, string>;
      expect(dependencies.replica).not.toBe('ok');
      expect(dependencies.primary).toBe('ok');
      expect(dependencies.redis).toBe('ok');
    } finally {
      replica.resume();
    }
    await waitFor(
      'catalog reads back on the replica',
      async () => (await queriesDuring(async () => void (await call(app, '/')))).replica === 1,
      10_000,
    );
    expect((await call(app, '/readyz')).body.dependencies).toMatchObject({ replica: 'ok' });
  }, 60_000);

  it('reads an order from the shard primary while the shard replica is dead (SIGKILL), and goes back', async () => {
    const customer = customerOn(0, 200);
    const placed = await call(app, '/orders', { method: 'POST', cookie: await cartFor(customer, 3) });
    expect(placed.status).toBe(201);
    await servers.syncReplicas();
    const shardReplica = servers.shards[0]!.replica!;
    await shardReplica.kill();
    try {
      let read: Res | undefined;
      const used = await queriesDuring(async () => {
        read = await call(app, `/orders/${placed.body.id}?customer=${customer}`);
      });
      expect(read).toMatchObject({ status: 200, body: placed.body });
      expect(used['shard-0']).toBe(2); // the order and its items, from the shard primary
      expect((await call(app, '/readyz')).status).toBe(200);
    } finally {
      await shardReplica.start();
    }
    await waitFor(
      'order reads back on the shard replica',
      async () =>
        (
          await queriesDuring(
            async () => void (await call(app, `/orders/${placed.body.id}?customer=${customer}`)),
          )
        )['shard-0-replica'] === 2,
      10_000,
    );
  }, 60_000);

  it('answers 503 naming the shard for an order whose shard primary is down; other shards take orders', async () => {
    const shardPrimary = servers.shards[1]!.primary;
    const onDownShard = customerOn(1, 300);
    const onUpShard = customerOn(0, 300);
    const stock = await stockOf(5);
    const cookie = await cartFor(onDownShard, 5);
    await shardPrimary.stop();
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        const refused = await call(app, '/orders', { method: 'POST', cookie });
        expect(refused.status).toBe(503);
        expect(refused.body).toEqual({
          error: expect.stringMatching(/^shard-1 is unavailable: .*; try again$/),
          unavailable: 'shard-1',
        });
        expect(refused.headers.get('retry-after')).toBe('1');
      }
      // Nothing was taken: the stock is as it was and the cart still holds the item.
      expect(await stockOf(5)).toBe(stock);
      expect((await call(app, '/cart', { cookie })).body.items).toEqual([
        expect.objectContaining({ productId: 5, quantity: 1 }),
      ]);

      const other = await call(app, '/orders', { method: 'POST', cookie: await cartFor(onUpShard, 6) });
      expect(other).toMatchObject({ status: 201, body: { customer: onUpShard, shard: 0 } });
      expect((await call(app, '/products/15')).status).toBe(200);
      const ready = await call(app, '/readyz');
      expect(ready.status).toBe(200);
      expect((ready.body.dependencies as Record<string, string>)['shard-1']).not.toBe('ok');
    } finally {
      await shardPrimary.start();
    }
    let placed: Res | undefined;
    await waitFor(
      'orders on shard 1 again',
      async () => (placed = await call(app, '/orders', { method: 'POST', cookie })).status === 201,
      10_000,
    );
    expect(placed!.body).toMatchObject({ customer: onDownShard, shard: 1 });
  }, 60_000);

  it('serves pages and orders by id without Redis; session routes answer 503 naming redis, also when it hangs', async () => {
    const customer = customerOn(0, 400);
    const cookie = await cartFor(customer, 7);
    const placed = await call(app, '/orders', { method: 'POST', cookie });
    expect(placed.status).toBe(201);
    await servers.syncReplicas();

    await servers.redis.stop();
    try {
      const ready = await call(app, '/readyz');
      expect(ready.status).toBe(200); // product pages and orders can still be served from the databases
      expect((ready.body.dependencies as Record<string, string>).redis).not.toBe('ok');
      const page = await call(app, '/products/16');
      expect(page.status).toBe(200);
      expect(page.headers.get('x-cache')).toBe('miss');
      expect((await call(app, '/')).status).toBe(200);
      expect((await call(app, `/orders/${placed.body.id}?customer=${customer}`)).status).toBe(200);
      for (const res of [
        await call(app, '/cart', { method: 'POST', body: { productId: 16 } }),
        await call(app, '/cart', { cookie }),
      ]) {
        expect(res.status).toBe(503);
        expect(res.body).toMatchObject({ unavailable: 'redis' });
        expect(res.headers.get('retry-after')).toBe('1');
      }
    } finally {
      await servers.redis.start();
    }
    await waitFor(
      'the cart again',
      async () => (await call(app, '/cart', { cookie })).status === 200,
      10_000,
    );

    servers.redis.pause();
    try {
      const hung = await call(app, '/cart', { method: 'POST', body: { productId: 17 }, cookie });
      expect(hung.status).toBe(503);
      expect(hung.body).toMatchObject({ unavailable: 'redis' });
      expect(hung.ms).toBeLessThan(3_000);
      const page = await call(app, '/products/17');
      expect(page.status).toBe(200);
      expect((await call(app, '/readyz')).status).toBe(200);
    } finally {
      servers.redis.resume();
    }
    await waitFor(
      'the cart again',
      async () => (await call(app, '/cart', { cookie })).status === 200,
      10_000,
    );
  }, 60_000);
});
