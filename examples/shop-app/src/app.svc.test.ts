// The shop against real servers: Redis, a MariaDB main primary with a real replica, and two shard primaries
// (shard 0 with a real replica, shard 1 read from its primary). App instances run in-process on free ports.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createClient } from 'redis';
import { type MariaDBServer } from '../../../test/services/mariadb.js';
import { call, cookieOf } from '../test/client.js';
import { startShopServers, type ShopServers } from '../test/servers.js';
import { createShopApp, type ShopApp, type ShopAppOptions } from './app.js';
import { parseConfig } from './config.js';
import { CATALOG_MIGRATIONS, ORDER_MIGRATIONS, SEED_PRODUCT_COUNT } from './migrations.js';
import { shardForKey } from './shards.js';

const silent = pino({ level: 'silent' });

/** A logger that keeps its JSON lines, to see what each instance did. */
function memoryLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

/** Queries by target, without the shard map's reads (a timer on a pool of their own, not the requests'). */
async function queriesByTarget(app: ShopApp): Promise<Record<string, number>> {
  const { values } = await app.metrics.dbQueries.get();
  return Object.fromEntries(
    values.filter((v) => v.labels.target !== 'shard-map').map((v) => [String(v.labels.target), v.value]),
  );
}
const total = (q: Record<string, number>) => Object.values(q).reduce((a, b) => a + b, 0);

async function comSelect(server: MariaDBServer): Promise<number> {
  const [row] = await server.query<{ Value: string }[]>("SHOW GLOBAL STATUS LIKE 'Com_select'");
  return Number(row!.Value);
}

/** A customer id whose orders live on `shard` (of `count`). */
function customerOn(shard: number, count: number, from = 1000): number {
  for (let id = from; ; id++) if (shardForKey(id, count, 1024) === shard) return id;
}

describe('shop app against real Redis and MariaDB', () => {
  let servers: ShopServers;
  const running = new Set<ShopApp>();
  let app: ShopApp;

  async function startApp(env: Record<string, string>, options: ShopAppOptions = {}): Promise<ShopApp> {
    const instance = createShopApp(parseConfig({ PORT: '0', POD_NAME: 'test-pod', ...env }), {
      logger: silent,
      host: '127.0.0.1',
      secondDeleteMs: 100,
      ...options,
    });
    running.add(instance);
    await instance.start();
    return instance;
  }

  async function stopApp(instance: ShopApp): Promise<void> {
    await instance.stop();
    running.delete(instance);
  }

  beforeAll(async () => {
    servers = await startShopServers({ mainReplica: true, shards: 2, shardReplicas: [0] });
    await servers.createDatabase('shop');
    app = await startApp(servers.env('shop'));
    await servers.syncReplicas(); // the seeded catalog reaches the replica
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled([...running].map((a) => a.stop()));
    await servers?.stop();
  }, 30_000);

  it('runs migrations from four instances at once: each migration once, on the right databases', async () => {
    await servers.createDatabase('migtest');
    const logs = [memoryLogger(), memoryLogger(), memoryLogger(), memoryLogger()];
    const instances = await Promise.all(
      logs.map(({ logger }) => startApp(servers.env('migtest', 1), { logger })),
    );
    await Promise.all(instances.map(stopApp));

    // Every migration was applied by exactly one instance (the others found it recorded under the lock).
    const applied = logs.flatMap(({ lines }) =>
      lines
        .filter((l) => l.msg === 'schema up to date')
        .flatMap((l) => (l.applied as string[]).map((id) => `${l.target}:${id}`)),
    );
    expect(applied.sort()).toEqual(
      [
        // Orders on every primary: the shard map may give buckets to the main database too.
        ...[...CATALOG_MIGRATIONS, ...ORDER_MIGRATIONS].map((m) => `primary:${m.id}`),
        ...ORDER_MIGRATIONS.flatMap((m) => [`shard-0:${m.id}`, `shard-1:${m.id}`]),
      ].sort(),
    );
    expect(logs.every(({ lines }) => lines.some((l) => l.msg === 'ready'))).toBe(true);

    const tables = async (server: MariaDBServer) =>
      (
        await server.query<{ t: string }[]>(
          "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'migtest'",
        )
      )
        .map((r) => r.t)
        .sort();
    expect(await tables(servers.main)).toEqual([
      'inventory',
      'order_items',
      'orders',
      'products',
      'reviews',
      'schema_migrations',
    ]);
    for (const shard of servers.shards) {
      expect(await tables(shard.primary)).toEqual(['order_items', 'orders', 'schema_migrations']);
    }
    const [migrations] = await servers.main.query<{ n: number }[]>(
      'SELECT COUNT(*) AS n FROM migtest.schema_migrations',
    );
    expect(migrations!.n).toBe(CATALOG_MIGRATIONS.length + ORDER_MIGRATIONS.length);
    const [products] = await servers.main.query<{ n: number }[]>(
      'SELECT COUNT(*) AS n FROM migtest.products',
    );
    expect(products!.n).toBe(SEED_PRODUCT_COUNT);
    const [reviews] = await servers.main.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM migtest.reviews');
    expect(reviews!.n).toBe(SEED_PRODUCT_COUNT * 2);
    // The replicas got the schema by replication, not from the app.
    await servers.syncReplicas();
    expect(await tables(servers.mainReplica!)).toEqual(await tables(servers.main));
    expect(await tables(servers.shards[0]!.replica!)).toEqual(['order_items', 'orders', 'schema_migrations']);
  }, 30_000);

  it('keeps the cart in Redis: it survives a restart of the app, and any instance serves it', async () => {
    const first = await startApp(servers.env('shop'));
    const added = await call(first, '/cart', { method: 'POST', body: { productId: 3, quantity: 2 } });
    expect(added.status).toBe(200);
    const setCookie = added.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^shop_sid=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
    const cookie = cookieOf(added)!;
    const more = await call(first, '/cart', { method: 'POST', body: { productId: 5 }, cookie });
    expect(more.headers.get('set-cookie')).toBeNull(); // the same session, no new cookie
    await stopApp(first);

    const second = await startApp(servers.env('shop'));
    for (const instance of [second, app]) {
      const cart = await call(instance, '/cart', { cookie });
      expect(cart.status).toBe(200);
      expect(cart.body.items).toEqual([
        { productId: 3, quantity: 2, name: 'Bright tea', priceCents: expect.any(Number) },
        { productId: 5, quantity: 1, name: 'Bold tea', priceCents: expect.any(Number) },
      ]);
    }
    await stopApp(second);
  }, 30_000);

  it('never adopts a session id the client made up', async () => {
    const forged = `shop_sid=${'A'.repeat(43)}`;
    expect((await call(app, '/cart', { cookie: forged })).body.items).toEqual([]);
    const res = await call(app, '/cart', { method: 'POST', body: { productId: 1 }, cookie: forged });
    expect(res.status).toBe(200);
    expect(cookieOf(res)).toMatch(/^shop_sid=/);
    expect(cookieOf(res)).not.toBe(forged);
  });

  it('serves a cached product page without touching the database', async () => {
    const replica = servers.mainReplica!;
    const before = await queriesByTarget(app);
    const miss = await call(app, '/products/7');
    expect(miss.status).toBe(200);
    expect(miss.headers.get('x-cache')).toBe('miss');
    const afterMiss = await queriesByTarget(app);
    expect((afterMiss.replica ?? 0) - (before.replica ?? 0)).toBe(4); // product, inventory, reviews, related
    expect(miss.body).toMatchObject({ id: 7, name: 'Classic coffee', category: 'coffee' });
    expect(miss.body.related).toHaveLength(4);
    expect(miss.body.reviews).toHaveLength(2);

    const selects = await comSelect(replica);
    const hit = await call(app, '/products/7');
    expect(hit.status).toBe(200);
    expect(hit.headers.get('x-cache')).toBe('hit');
    expect(hit.body).toEqual(miss.body);
    expect(total(await queriesByTarget(app))).toBe(total(afterMiss)); // 0 queries from the app
    expect(await comSelect(replica)).toBe(selects); // and the server saw none
  });

  it('deletes the cached page when a review or the stock changes', async () => {
    expect((await call(app, '/products/8')).headers.get('x-cache')).toMatch(/hit|miss/);
    expect((await call(app, '/products/8')).headers.get('x-cache')).toBe('hit');

    const review = await call(app, '/products/8/reviews', {
      method: 'POST',
      body: { author: 'tester', rating: 5, body: 'Lovely.' },
    });
    expect(review.status).toBe(201);
    await servers.syncReplicas();
    const afterReview = await call(app, '/products/8');
    expect(afterReview.headers.get('x-cache')).toBe('miss');
    expect((afterReview.body.reviews as { body: string }[]).map((r) => r.body)).toContain('Lovely.');
    expect(afterReview.body.rating).toEqual({ average: expect.any(Number), count: 3 });
    expect((await call(app, '/products/8')).headers.get('x-cache')).toBe('hit');

    const stock = await call(app, '/products/8/inventory', {
      method: 'PUT',
      body: { priceCents: 1234, stock: 5 },
    });
    expect(stock.status).toBe(200);
    await servers.syncReplicas();
    const afterStock = await call(app, '/products/8');
    expect(afterStock.headers.get('x-cache')).toBe('miss');
    expect(afterStock.body).toMatchObject({ priceCents: 1234, stock: 5 });
  });

  it('CACHE_OBJECTS=off assembles every page from the database and caches nothing', async () => {
    const uncached = await startApp({ ...servers.env('shop', 2), CACHE_OBJECTS: 'off' });
    for (let i = 0; i < 2; i++) {
      const before = total(await queriesByTarget(uncached));
      const res = await call(uncached, '/products/9');
      expect(res.status).toBe(200);
      expect(res.headers.get('x-cache')).toBe('bypass');
      expect(total(await queriesByTarget(uncached)) - before).toBe(4);
    }
    const client = createClient({ url: `${servers.redis.url}/2` });
    await client.connect();
    expect(await client.keys('shop:page:*')).toEqual([]);
    await client.quit();
    await stopApp(uncached);
  });

  it('writes an order to the shard of its customer only, and reads it back from that shard’s read URL', async () => {
    for (const shard of [0, 1]) {
      const customer = customerOn(shard, 2);
      const cart = await call(app, '/cart', {
        method: 'POST',
        body: { productId: 10, quantity: 2, customer },
      });
      const cookie = cookieOf(cart)!;
      const before = await queriesByTarget(app);
      const placed = await call(app, '/orders', { method: 'POST', cookie });
      expect(placed.status).toBe(201);
      const id = placed.body.id as number;
      expect(placed.body).toMatchObject({ customer, shard, items: [{ productId: 10, quantity: 2 }] });
      expect(placed.headers.get('location')).toBe(`/orders/${id}?customer=${customer}`);
      const after = await queriesByTarget(app);
      expect((after[`shard-${shard}`] ?? 0) - (before[`shard-${shard}`] ?? 0)).toBeGreaterThan(0);
      expect(after[`shard-${1 - shard}`] ?? 0).toBe(before[`shard-${1 - shard}`] ?? 0);

      const own = servers.shards[shard]!.primary;
      const other = servers.shards[1 - shard]!.primary;
      const count = async (server: MariaDBServer) =>
        (
          await server.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM shop.orders WHERE customer_id = ?', [
            customer,
          ])
        )[0]!.n;
      expect(await count(own)).toBe(1);
      expect(await count(other)).toBe(0);

      // Shard 0 reads from a real replica: the order is there by replication.
      await servers.syncReplicas();
      const replica = servers.shards[shard]!.replica;
      if (replica) expect(await count(replica)).toBe(1);
      const readBefore = (await queriesByTarget(app))[`shard-${shard}-replica`] ?? 0;
      const read = await call(app, `/orders/${id}?customer=${customer}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(placed.body);
      expect((await queriesByTarget(app))[`shard-${shard}-replica`]).toBeGreaterThan(readBefore);

      // Another customer cannot read it; the cart is empty afterwards.
      expect((await call(app, `/orders/${id}?customer=${customerOn(shard, 2, customer + 1)}`)).status).toBe(
        404,
      );
      expect((await call(app, '/cart', { cookie })).body.items).toEqual([]);
    }
    // Orders never land on the main database when the (static) map gives every bucket to a shard.
    const [mainOrders] = await servers.main.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM shop.orders');
    expect(mainOrders!.n).toBe(0);
  });

  it('reserves stock on the main primary and refuses an order it cannot fill', async () => {
    await call(app, '/products/11/inventory', { method: 'PUT', body: { stock: 1 } });
    const customer = customerOn(0, 2, 5000);
    const cart = await call(app, '/cart', { method: 'POST', body: { productId: 11, quantity: 2, customer } });
    const refused = await call(app, '/orders', { method: 'POST', cookie: cookieOf(cart)! });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatch(/only 1 in stock/);
    const [row] = await servers.shards[0]!.primary.query<{ n: number }[]>(
      'SELECT COUNT(*) AS n FROM shop.orders WHERE customer_id = ?',
      [customer],
    );
    expect(row!.n).toBe(0);
    const [stock] = await servers.main.query<{ stock: number }[]>(
      'SELECT stock FROM shop.inventory WHERE product_id = 11',
    );
    expect(stock!.stock).toBe(1);
  });

  it('keeps orders on the main primary when DATABASE_SHARDS is empty', async () => {
    await servers.createDatabase('shopflat');
    const flat = await startApp({ ...servers.env('shopflat', 3), DATABASE_SHARDS: '[]' });
    const cart = await call(flat, '/cart', { method: 'POST', body: { productId: 2, customer: 77 } });
    const placed = await call(flat, '/orders', { method: 'POST', cookie: cookieOf(cart)! });
    expect(placed.status).toBe(201);
    expect(placed.body.shard).toBeNull();
    const [row] = await servers.main.query<{ n: number }[]>(
      'SELECT COUNT(*) AS n FROM shopflat.orders WHERE customer_id = 77',
    );
    expect(row!.n).toBe(1);
    await servers.syncReplicas();
    const read = await call(flat, `/orders/${placed.body.id}?customer=77`);
    expect(read.status).toBe(200);
    expect((await queriesByTarget(flat)).replica).toBeGreaterThan(0);
    await stopApp(flat);
  }, 30_000);

  it('lists the catalog from the replica', async () => {
    const before = await queriesByTarget(app);
    const list = await call(app, '/');
    expect(list.status).toBe(200);
    expect(list.body.pod).toBe('test-pod');
    expect(list.body.products).toHaveLength(SEED_PRODUCT_COUNT);
    expect((list.body.products as unknown[])[0]).toEqual({
      id: 1,
      name: 'Classic tea',
      category: 'tea',
      priceCents: expect.any(Number),
      stock: expect.any(Number),
    });
    const after = await queriesByTarget(app);
    expect(after.replica! - (before.replica ?? 0)).toBe(1);
    expect(after.primary).toBe(before.primary);
  });

  it('answers /healthz, /readyz, /whoami and /metrics, and checks input', async () => {
    expect((await call(app, '/healthz')).status).toBe(200);
    const ready = await call(app, '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({
      ready: true,
      checks: { migrations: 'ok', shutdown: 'ok' },
      dependencies: Object.fromEntries(
        ['redis', 'primary', 'replica', 'shard-0', 'shard-0-replica', 'shard-1', 'shard-1-replica'].map(
          (d) => [d, 'ok'],
        ),
      ),
    });
    expect((await call(app, '/whoami')).body).toEqual({ pod: 'test-pod' });
    expect((await call(app, '/products/99999')).status).toBe(404);
    expect((await call(app, '/products/abc')).status).toBe(404);
    expect((await call(app, '/nowhere')).status).toBe(404);
    expect((await call(app, '/cart', { method: 'DELETE' })).status).toBe(405);
    const bad = await call(app, '/cart', { method: 'POST', body: { productId: 1, quantity: 1000 } });
    expect(bad).toMatchObject({
      status: 400,
      body: { error: 'quantity must be an integer between 1 and 99' },
    });
    expect((await call(app, '/orders', { method: 'POST', body: {} })).status).toBe(400);

    const metrics = (await call(app, '/metrics')).body.text as string;
    expect(metrics).toMatch(
      /shop_http_requests_total\{method="GET",route="\/products\/:id",status="200"\} \d+/,
    );
    expect(metrics).toMatch(/shop_http_requests_total\{method="GET",route="unmatched",status="404"\} \d+/);
    expect(metrics).toMatch(/shop_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/"/);
    for (const target of ['primary', 'replica', 'shard-0', 'shard-1', 'shard-0-replica', 'shard-1-replica']) {
      expect(metrics).toContain(`shop_db_queries_total{target="${target}"}`);
    }
    expect(metrics).toMatch(/shop_object_cache_requests_total\{result="hit"\} [1-9]/);
    expect(metrics).toMatch(/shop_object_cache_requests_total\{result="miss"\} [1-9]/);
  });
});
