// The shop: routes, wiring and lifecycle. createShopApp() builds an instance from a Config; start() listens,
// connects to Redis and migrates; stop() drains and closes everything. Several instances can run in one
// process (tests, the benchmark): each has its own server, pools, Redis client and metrics registry.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino, type Logger } from 'pino';
import { isUnavailable, Unavailable } from './availability.js';
import { addReview, listProducts, ProductPages, updateInventory } from './catalog.js';
import { type Config, describeEndpoint } from './config.js';
import { Databases, withTimeout } from './db.js';
import {
  type Context,
  HttpError,
  intField,
  parseCookies,
  pathId,
  prefersHtml,
  readBody,
  type Reply,
  Router,
  textField,
} from './http.js';
import { createMetrics, type Metrics } from './metrics.js';
import { CATALOG_MIGRATIONS, migrate, ORDER_MIGRATIONS } from './migrations.js';
import { backfillShardBuckets } from './backfill.js';
import { getOrder, listOrders, type Order, placeOrder } from './orders.js';
import { createRedisClient, type RedisClient } from './redis.js';
import { OrderRouter } from './routing.js';
import { readShardMapRow, ShardMapClient } from './shard-map.js';
import { SESSION_COOKIE, type SessionData, Sessions } from './sessions.js';
import { errorReply, type Failure, isStorefrontPath, registerStorefront, seeOther } from './storefront.js';
import type { CartView } from './views.js';

export interface ShopAppOptions {
  logger?: Logger;
  /** Address to listen on; all interfaces when unset. */
  host?: string;
  /**
   * After stop() begins, keep serving (while /readyz says 503) until no request but a probe has come for this
   * long: load balancers stop sending only once they see the pod not ready, and a sticky one (Traefik) keeps
   * sending its sessions to a terminating pod until then.
   */
  drainDelayMs?: number;
  /** The longest drain, whatever still arrives (default 20 s; the pod's grace period must cover it). */
  drainMaxMs?: number;
  /** Longest wait for in-flight requests before their connections are closed. */
  shutdownTimeoutMs?: number;
  /** Time limit of each dependency check that /readyz reports (they do not decide its status). */
  readyTimeoutMs?: number;
  /** Reads from a replica that has no answer after this long go to its primary (default 2 s). */
  readTimeoutMs?: number;
  /** While a database is down, how often it is probed (default 1 s). */
  probeIntervalMs?: number;
  /** Object cache tuning (tests shorten the second delete). */
  pageTtlSeconds?: number;
  secondDeleteMs?: number;
  /** How long an order for a bucket that is being moved waits before a 503 (default 5 s, the contract's). */
  writeDeadlineMs?: number;
}

export interface ShopApp {
  readonly config: Config;
  readonly metrics: Metrics;
  readonly dbs: Databases;
  /** The shard map orders are routed by. */
  readonly shardMap: ShardMapClient;
  /** The bound port (after start; useful with PORT=0). */
  readonly port: number;
  readonly url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}): Reply => ({
  status,
  body,
  headers,
});

export function createShopApp(config: Config, options: ShopAppOptions = {}): ShopApp {
  const log = options.logger ?? pino({ name: 'shop' });
  const pod = config.podName ?? hostname();
  const metrics = createMetrics();
  const dbs = new Databases(config, metrics, {
    ...(options.readTimeoutMs !== undefined ? { readTimeoutMs: options.readTimeoutMs } : {}),
    ...(options.probeIntervalMs !== undefined ? { probeIntervalMs: options.probeIntervalMs } : {}),
  });
  let redisDown = false;
  const redis: RedisClient = createRedisClient(config.redisUrl, (err) => {
    if (!redisDown) log.warn({ err: err.message }, 'redis connection lost; reconnecting');
    redisDown = true;
  });
  redis.on('ready', () => {
    if (redisDown) log.info('redis connection restored');
    redisDown = false;
  });
  const sessions = new Sessions(redis);
  const pages = new ProductPages(redis, dbs, metrics, log, {
    enabled: config.cacheObjects,
    ...(options.pageTtlSeconds !== undefined ? { ttlSeconds: options.pageTtlSeconds } : {}),
    ...(options.secondDeleteMs !== undefined ? { secondDeleteMs: options.secondDeleteMs } : {}),
  });
  const readyTimeoutMs = options.readyTimeoutMs ?? 500;
  const shardMap = new ShardMapClient(() => readShardMapRow(dbs.shardMap), {
    buckets: config.shardBuckets,
    shardCount: config.shards.length,
    maxAgeMs: config.shardMapMaxAgeMs,
    refreshMs: config.shardMapRefreshMs,
    log,
  });
  const orders = new OrderRouter(dbs, shardMap, {
    buckets: config.shardBuckets,
    ...(options.writeDeadlineMs !== undefined ? { writeDeadlineMs: options.writeDeadlineMs } : {}),
  });

  let migrated = false;
  let stopping = false;
  const abort = new AbortController();

  // ---- sessions -------------------------------------------------------------------------------------------

  const currentSession = (ctx: Context) =>
    sessions.load(parseCookies(ctx.req.headers.cookie)[SESSION_COOKIE]);

  async function sessionForWrite(ctx: Context): Promise<SessionData> {
    const existing = await currentSession(ctx);
    if (existing) return existing;
    const created = await sessions.create();
    ctx.headers['Set-Cookie'] = sessions.cookie(created.id);
    return created;
  }

  async function cartView(session: SessionData | undefined): Promise<CartView> {
    const items = await Promise.all(
      (session?.cart ?? []).map(async (item) => {
        const { page } = await pages.get(item.productId);
        return { ...item, name: page?.name ?? null, priceCents: page?.priceCents ?? null };
      }),
    );
    const totalCents = items.reduce((sum, i) => sum + i.quantity * (i.priceCents ?? 0), 0);
    return { customer: session?.customer ?? null, items, totalCents };
  }

  /**
   * Deletes cached pages after a committed write. A failure (Redis down) is logged, not returned: the write
   * happened, and the page's TTL bounds how long it can be stale.
   */
  const invalidate = (ids: number[]) =>
    pages.invalidate(ids).catch((err: unknown) => {
      metrics.objectCache.inc({ result: 'error' });
      log.warn({ err: String(err), ids }, 'could not delete cached pages after a write');
    });

  async function review(productId: number, review: { author: string; rating: number; body: string }) {
    const written = await addReview(dbs.primary, productId, review);
    if (written) await invalidate([productId]);
    return written;
  }

  /** Places an order of the session's cart for `customer` (POST /orders, and the HTML checkout). */
  async function checkout(session: SessionData | undefined, customer: number): Promise<Order> {
    const order = await placeOrder(dbs, orders, log, customer, session?.cart ?? []);
    // The order is committed: from here on nothing may turn the answer into an error (a client would retry
    // and order twice). Their stock changed, so the product pages go; the ordered items leave the cart.
    await invalidate(order.items.map((i) => i.productId));
    if (session) {
      await Promise.all([
        sessions.removeItems(session.id, session.cart),
        session.customer !== customer ? sessions.setCustomer(session.id, customer) : undefined,
      ]).catch((err: unknown) =>
        log.warn({ err: String(err) }, 'could not update the session after an order'),
      );
    }
    return order;
  }

  /** A browser (Accept: text/html first) opening a JSON route is sent to its page under /shop. */
  const toPage = (ctx: Context, location: string) =>
    prefersHtml(ctx.req.headers.accept) ? seeOther(location, { Vary: 'Accept' }) : undefined;

  // ---- routes ---------------------------------------------------------------------------------------------

  const router = new Router()
    .on(
      'GET',
      '/',
      async (ctx) =>
        toPage(ctx, '/shop') ??
        json({ pod, products: await listProducts(dbs.catalog) }, 200, { Vary: 'Accept' }),
    )
    .on('GET', '/products/:id', async (ctx) => {
      const redirect = toPage(ctx, `/shop/products/${encodeURIComponent(ctx.params.id ?? '')}`);
      if (redirect) return redirect;
      const { page, cache } = await pages.get(pathId(ctx.params.id, 'product'));
      if (!page) throw new HttpError(404, 'product not found', { 'X-Cache': cache });
      return json(page, 200, { 'X-Cache': cache });
    })
    .on('POST', '/products/:id/reviews', async (ctx) => {
      const id = pathId(ctx.params.id, 'product');
      const body = await readBody(ctx.req);
      const written = await review(id, {
        author: textField(body.author, 'author', 100),
        rating: intField(body.rating, 'rating', 1, 5),
        body: textField(body.body, 'body', 2000),
      });
      if (!written) throw new HttpError(404, 'product not found');
      return json(written, 201);
    })
    .on('PUT', '/products/:id/inventory', async (ctx) => {
      const id = pathId(ctx.params.id, 'product');
      const body = await readBody(ctx.req);
      const change = {
        priceCents:
          body.priceCents === undefined ? undefined : intField(body.priceCents, 'priceCents', 0, 10_000_000),
        stock: body.stock === undefined ? undefined : intField(body.stock, 'stock', 0, 1_000_000),
      };
      if (!(await updateInventory(dbs.primary, id, change))) throw new HttpError(404, 'product not found');
      await invalidate([id]);
      return json({ productId: id, ...change });
    })
    .on('GET', '/cart', async (ctx) => json(await cartView(await currentSession(ctx))))
    .on('POST', '/cart', async (ctx) => {
      const body = await readBody(ctx.req);
      const productId = intField(body.productId, 'productId');
      const quantity = body.quantity === undefined ? 1 : intField(body.quantity, 'quantity', 1, 99);
      const customer = body.customer === undefined ? undefined : intField(body.customer, 'customer');
      const { page } = await pages.get(productId);
      if (!page) throw new HttpError(404, `product ${productId} not found`);
      const session = await sessionForWrite(ctx);
      await sessions.addItem(session.id, productId, quantity);
      if (customer !== undefined) await sessions.setCustomer(session.id, customer);
      return json(await cartView(await sessions.load(session.id)));
    })
    .on('POST', '/orders', async (ctx) => {
      const body = await readBody(ctx.req);
      const session = await currentSession(ctx);
      const customer =
        body.customer !== undefined ? intField(body.customer, 'customer') : (session?.customer ?? undefined);
      if (customer === undefined) {
        throw new HttpError(
          400,
          'customer is required: send a "customer" field or add it to the cart session',
        );
      }
      const order = await checkout(session, customer);
      return json(order, 201, { Location: `/orders/${order.id}?customer=${customer}` });
    })
    .on('GET', '/orders', async (ctx) => {
      const param = ctx.url.searchParams.get('customer');
      const customer = param !== null ? intField(param, 'customer') : (await currentSession(ctx))?.customer;
      if (customer === undefined) throw new HttpError(400, 'customer is required: /orders?customer=<id>');
      return json({ customer, ...(await listOrders(orders, customer)) });
    })
    .on('GET', '/orders/:id', async (ctx) => {
      const id = pathId(ctx.params.id, 'order');
      const param = ctx.url.searchParams.get('customer');
      const customer = param !== null ? intField(param, 'customer') : (await currentSession(ctx))?.customer;
      if (customer === undefined)
        throw new HttpError(400, 'customer is required: /orders/<id>?customer=<id>');
      const order = await getOrder(orders, customer, id);
      if (!order)
        throw new HttpError(404, 'order not found (a just-placed order may not have reached the replica)');
      return json(order);
    })
    .on('GET', '/healthz', async () => json({ status: 'alive' }))
    .on('GET', '/readyz', async () => {
      // Whether this pod can serve: started (migrated) and not shutting down. The data stores are shared by every
      // pod, so an outage of one would take every pod out of the Service at once; instead each request that
      // needs a store that is down gets a 503 naming it, and the report below says what is down.
      const checks = {
        migrations: migrated ? 'ok' : 'not yet applied',
        shutdown: stopping ? 'shutting down' : 'ok',
      };
      const ready = Object.values(checks).every((c) => c === 'ok');
      return json({ ready, checks, dependencies: await dependencies() }, ready ? 200 : 503);
    })
    .on('GET', '/whoami', async () => json({ pod }))
    .on('GET', '/metrics', async () => ({
      body: await metrics.registry.metrics(),
      headers: { 'Content-Type': metrics.registry.contentType },
    }));

  registerStorefront(router, {
    pod,
    dbs,
    orders,
    pages,
    currentSession,
    sessionForWrite,
    addToCart: (session, productId, quantity) => sessions.addItem(session.id, productId, quantity),
    cartView,
    checkout,
    addReview: review,
  });

  /** Each data store: `ok`, or why it did not answer within readyTimeoutMs (a report; it decides nothing). */
  async function dependencies(): Promise<Record<string, string>> {
    const probes: [string, Promise<unknown>][] = [
      ['redis', withTimeout(redis.ping(), readyTimeoutMs, `no answer within ${readyTimeoutMs} ms`)],
      ...dbs.all().map((db): [string, Promise<unknown>] => [db.target, db.ping(readyTimeoutMs)]),
    ];
    const results = await Promise.allSettled(probes.map(([, p]) => p));
    return Object.fromEntries(
      probes.map(([name], i) => {
        const r = results[i]!;
        return [name, r.status === 'fulfilled' ? 'ok' : String((r.reason as Error)?.message ?? r.reason)];
      }),
    );
  }

  // ---- HTTP -----------------------------------------------------------------------------------------------

  function describeFailure(err: unknown, method: string, route: string): Failure {
    if (err instanceof HttpError) return { status: err.status, error: err.message, headers: err.headers };
    if (err instanceof Unavailable) {
      // Only what needs the missing store fails, and says which store it is.
      log.warn({ err: err.message, method, route }, 'a data store is unavailable');
      return {
        status: 503,
        error: `${err.message}; try again`,
        unavailable: err.dependency,
        headers: { 'Retry-After': '1' },
      };
    }
    if (isUnavailable(err)) {
      log.warn({ err: String(err), method, route }, 'a data store is unavailable');
      return {
        status: 503,
        error: 'a data store is unavailable; try again',
        headers: { 'Retry-After': '1' },
      };
    }
    log.error({ err, method, route }, 'request failed');
    return { status: 500, error: 'internal error' };
  }

  /** When the last request other than a probe arrived (a drain waits for traffic to stop). */
  let lastRequestAt = Date.now();
  const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

  /** Resolves once no request but a probe has come for `quietMs`, or after `maxMs`. */
  async function drain(quietMs: number, maxMs: number): Promise<void> {
    const until = Date.now() + maxMs;
    lastRequestAt = Math.max(lastRequestAt, Date.now());
    while (Date.now() < until) {
      const quietFor = Date.now() - lastRequestAt;
      if (quietFor >= quietMs) return;
      await sleep(Math.min(quietMs - quietFor, until - Date.now()));
    }
    log.warn({ maxMs }, 'requests still arriving at the end of the drain');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const method = req.method ?? 'GET';
    let route = 'unmatched';
    let reply: Reply;
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!PROBES.has(url.pathname)) lastRequestAt = Date.now();
    const ctx: Context = { req, url, params: {}, headers: {} };
    try {
      const match = router.match(method, url.pathname);
      if (match.kind === 'not-found') throw new HttpError(404, `no route for ${url.pathname}`);
      route = match.route;
      if (match.kind === 'method-not-allowed') {
        throw new HttpError(405, `${method} is not allowed here`, { Allow: match.allow.join(', ') });
      }
      ctx.params = match.params;
      reply = await match.handler(ctx);
    } catch (err) {
      const failure = describeFailure(err, method, route);
      reply = isStorefrontPath(url.pathname)
        ? errorReply(pod, failure)
        : json(
            { error: failure.error, ...(failure.unavailable ? { unavailable: failure.unavailable } : {}) },
            failure.status,
            failure.headers,
          );
    }
    const status = reply.status ?? 200;
    const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Served-By': pod,
      ...ctx.headers,
      ...reply.headers,
      ...(stopping ? { Connection: 'close' } : {}),
    });
    res.end(method === 'HEAD' ? undefined : body);
    const labels = { method, route, status: String(status) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, 'could not answer');
      res.destroy();
    });
  });
  // Longer than the idle timeout of common load balancers (60 s), so that they, not we, close idle connections.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  // ---- lifecycle ------------------------------------------------------------------------------------------

  /** Retries `fn` with backoff until it succeeds or the app stops. */
  async function retry(what: string, fn: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (abort.signal.aborted) throw new Error(`${what}: stopped`, { cause: err });
        const delay = Math.min(500 * 2 ** attempt, 10_000);
        log.warn({ err: String(err), attempt, retryInMs: delay }, `${what} failed; retrying`);
        await sleep(delay, undefined, { signal: abort.signal }).catch(() => {});
      }
    }
  }

  /**
   * Migrates every primary (orders on all of them: the shard map may give buckets to the main database as well as
   * to shards) and fills shard_bucket in rows written before it existed; then reads the shard map.
   */
  async function migrateAll(): Promise<void> {
    const jobs = [
      { db: dbs.primary, migrations: [...CATALOG_MIGRATIONS, ...ORDER_MIGRATIONS] },
      ...dbs.shards.map((s) => ({ db: s.write, migrations: ORDER_MIGRATIONS })),
    ];
    await Promise.all(
      jobs.map(({ db, migrations }) =>
        retry(`migrating ${db.target}`, async () => {
          const applied = await migrate(db, migrations);
          const filled = await backfillShardBuckets(db, config.shardBuckets);
          log.info(
            { target: db.target, database: describeEndpoint(db.endpoint), applied, shardBuckets: filled },
            'schema up to date',
          );
        }),
      ),
    );
    await retry('reading the shard map', () => shardMap.start());
  }

  let address: AddressInfo | undefined;

  const app: ShopApp = {
    config,
    metrics,
    dbs,
    shardMap,
    get port() {
      if (!address) throw new Error('the app is not listening');
      return address.port;
    },
    get url() {
      return `http://${options.host ?? '127.0.0.1'}:${app.port}`;
    },
    async start() {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, options.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      address = server.address() as AddressInfo;
      log.info(
        {
          port: address.port,
          pod,
          primary: describeEndpoint(config.primary),
          replica: describeEndpoint(config.replica),
          shards: config.shards.length,
          cacheObjects: config.cacheObjects,
        },
        'listening',
      );
      await Promise.all([redis.connect().then(() => undefined), migrateAll()]);
      migrated = true;
      log.info('ready');
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      abort.abort();
      if (options.drainDelayMs) await drain(options.drainDelayMs, options.drainMaxMs ?? 20_000);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timeout = options.shutdownTimeoutMs ?? 10_000;
      const timer = setTimeout(() => server.closeAllConnections(), timeout);
      await closed;
      clearTimeout(timer);
      pages.close();
      shardMap.stop();
      await dbs.end();
      if (redis.isReady) await redis.close().catch(() => redis.destroy());
      else if (redis.isOpen) redis.destroy();
      log.info('stopped');
    },
  };
  return app;
}
