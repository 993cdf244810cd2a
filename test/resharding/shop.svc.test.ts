// The operator's mover and the example shop together, against real servers (Redis, a MariaDB main primary and
// three shard primaries, auto-increment offsets per group as the operator sets them): two shop instances take
// orders continuously and a reader lists each customer's orders through them, while reshardPass moves buckets
// 2 → 3 shards, and in a second database 0 → 2. Afterwards every acknowledged order is readable through the shop
// exactly once and stored exactly once; during the move the reader never missed an order it had to see (one the
// same instance acknowledged before the read began, or any instance SHARD_MAP_MAX_AGE_MS before) nor saw one
// twice. The longest write pause per batch is printed, as the mover measured it and as the orders felt it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { createShopApp, type ShopApp } from '../../examples/shop-app/src/app.js';
import { parseConfig } from '../../examples/shop-app/src/config.js';
import { call, cookieOf } from '../../examples/shop-app/test/client.js';
import {
  APP_PASSWORD,
  APP_USER,
  startShopServers,
  type ShopServers,
} from '../../examples/shop-app/test/servers.js';
import { type BatchMoved, type PassResult, reshardPass, type Topology } from '../../src/resharding/pass.js';
import type { MariaDBServer } from '../services/mariadb.js';

const MAP_MAX_AGE_MS = 2_000;
const CUSTOMERS = Array.from({ length: 24 }, (_, i) => 1_000 + i * 7);
const WRITERS = 3;

interface Acked {
  id: number;
  customer: number;
  via: number;
  /** When the client had the 201 (performance.now()). */
  at: number;
}

interface Run {
  acked: Acked[];
  failedOrders: string[];
  /** The slowest POST /orders while the pass ran (ms). */
  slowestOrderMs: number;
  reads: number;
  failedReads: string[];
  missing: Set<string>;
  duplicates: Set<string>;
}

let servers: ShopServers;
const apps = new Set<ShopApp>();

beforeAll(async () => {
  servers = await startShopServers({ shards: 3 });
  // As the operator sets them: `id % 100` names the group that created a row, so keys never collide on a move.
  await Promise.all(
    servers
      .primaries()
      .map((p, g) => p.query(`SET GLOBAL auto_increment_increment = 100, auto_increment_offset = ${g + 1}`)),
  );
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([...apps].map((a) => a.stop()));
  await servers?.stop();
}, 30_000);

const endpoints = (server: MariaDBServer) => ({
  primary: { host: '127.0.0.1', port: server.port },
  replicas: [],
});

function topology(database: string, shards: number): Topology {
  return {
    engine: 'mariadb',
    database,
    user: APP_USER,
    password: APP_PASSWORD,
    main: endpoints(servers.main),
    shards: servers.shards.slice(0, shards).map((s) => endpoints(s.primary)),
  };
}

/** Passes until the map reaches `count` shards (idle); every batch it moved. */
async function reshard(database: string, shards: number, count: number, batchBuckets: number) {
  const batches: BatchMoved[] = [];
  let result: PassResult;
  for (let pass = 0; ; pass++) {
    result = await reshardPass(
      topology(database, shards),
      { count, batchBuckets, mapMaxAgeMs: MAP_MAX_AGE_MS },
      { onBatch: (b) => batches.push(b) },
    );
    if (result.state === 'idle') break;
    if (result.state === 'failed') throw new Error(`pass ${pass} failed: ${result.message}`);
    if (pass > 30) throw new Error(`still ${result.state} after ${pass} passes: ${result.message}`);
    if (result.state === 'waiting') await new Promise((r) => setTimeout(r, result.retryAfterMs ?? 500));
  }
  return { batches, result };
}

async function startShop(database: string, redisDb: number, shards: number, pod: string): Promise<ShopApp> {
  const env = servers.env(database, redisDb);
  const bound = (JSON.parse(env.DATABASE_SHARDS!) as unknown[]).slice(0, shards);
  const app = createShopApp(
    parseConfig({ ...env, DATABASE_SHARDS: JSON.stringify(bound), PORT: '0', POD_NAME: pod }),
    { logger: pino({ level: 'silent' }), host: '127.0.0.1', drainDelayMs: 0 },
  );
  apps.add(app);
  await app.start();
  return app;
}

/** Orders placed continuously by WRITERS loops and a reader listing customers' orders, both over `shops`. */
function startLoad(shops: ShopApp[], run: Run) {
  let stopping = false;
  let measuring = false;
  const writer = async (w: number) => {
    let cookie: string | undefined;
    for (let k = w; !stopping; k += WRITERS) {
      const via = k % shops.length;
      const customer = CUSTOMERS[k % CUSTOMERS.length]!;
      const cart = await call(shops[via]!, '/cart', {
        method: 'POST',
        body: { productId: 1 + (k % 24), customer },
        ...(cookie ? { cookie } : {}),
      });
      cookie ??= cookieOf(cart);
      const placed = await call(shops[via]!, '/orders', { method: 'POST', ...(cookie ? { cookie } : {}) });
      if (measuring) run.slowestOrderMs = Math.max(run.slowestOrderMs, placed.ms);
      if (placed.status === 201) {
        run.acked.push({ id: placed.body.id as number, customer, via, at: performance.now() });
      } else {
        run.failedOrders.push(`${placed.status} ${JSON.stringify(placed.body)}`);
      }
    }
  };
  const reader = async () => {
    for (let k = 0; !stopping; k++) {
      const via = k % shops.length;
      const customer = CUSTOMERS[Math.floor(k / shops.length) % CUSTOMERS.length]!;
      const began = performance.now();
      const mustSee = run.acked.filter(
        (a) => a.customer === customer && (a.via === via ? a.at < began : a.at < began - MAP_MAX_AGE_MS),
      );
      const listed = await call(shops[via]!, `/orders?customer=${customer}`);
      run.reads++;
      if (listed.status !== 200) {
        run.failedReads.push(`${listed.status} ${JSON.stringify(listed.body)}`);
        continue;
      }
      const ids = (listed.body.orders as { id: number }[]).map((o) => o.id);
      const seen = new Set(ids);
      if (seen.size !== ids.length) run.duplicates.add(`customer ${customer} via ${via}: ${ids.join(',')}`);
      for (const a of mustSee) {
        if (!seen.has(a.id)) {
          run.missing.add(`order ${a.id} of customer ${customer} (acked via ${a.via}) missing via ${via}`);
        }
      }
    }
  };
  const loops = [...Array.from({ length: WRITERS }, (_, w) => writer(w)), reader()];
  return {
    measure: (on: boolean) => (measuring = on),
    stop: async () => {
      stopping = true;
      await Promise.all(loops);
    },
  };
}

/** Rows of each order id over the primaries of `database` (main and its first `shards` shards). */
async function storedCopies(database: string, shards: number): Promise<Map<number, number>> {
  const copies = new Map<number, number>();
  for (const server of servers.primaries().slice(0, 1 + shards)) {
    const rows = await server.query<{ id: number }[]>(`SELECT id FROM \`${database}\`.orders`);
    for (const { id } of rows) copies.set(Number(id), (copies.get(Number(id)) ?? 0) + 1);
  }
  return copies;
}

async function reshardUnderLoad(opts: {
  database: string;
  redisDb: number;
  from: number;
  to: number;
  /** Shards in the binding and the topology. */
  shards: number;
  batchBuckets: number;
  /** Every batch moves from one of these groups to one of those. */
  sources: number[];
  destinations: number[];
}) {
  const { database, redisDb, from, to, shards, batchBuckets } = opts;
  await servers.createDatabase(database);
  // The map exists (the shop routed by `from` shards) before the binding names the new shard.
  expect((await reshard(database, shards, from, batchBuckets)).result.state).toBe('idle');
  const shops = [
    await startShop(database, redisDb, shards, `${database}-a`),
    await startShop(database, redisDb, shards, `${database}-b`),
  ];
  await servers.main.query(`UPDATE \`${database}\`.inventory SET stock = 1000000`);
  const run: Run = {
    acked: [],
    failedOrders: [],
    slowestOrderMs: 0,
    reads: 0,
    failedReads: [],
    missing: new Set(),
    duplicates: new Set(),
  };
  const load = startLoad(shops, run);
  await new Promise((r) => setTimeout(r, 1_500)); // orders before the move
  const before = run.acked.length;
  load.measure(true);
  const started = performance.now();
  let moved: Awaited<ReturnType<typeof reshard>>;
  try {
    moved = await reshard(database, shards, to, batchBuckets);
  } finally {
    load.measure(false);
    await new Promise((r) => setTimeout(r, 500)); // orders after it
    await load.stop();
  }
  const tookMs = performance.now() - started;

  const pauses = moved.batches.map((b) => b.pauseMs);
  console.log(
    `${database}: ${from} → ${to} shards in ${moved.batches.length} batches of ≤ ${batchBuckets} buckets, ` +
      `${Math.round(tookMs)} ms (drain included); ${run.acked.length} orders acknowledged (${before} before the ` +
      `move), ${run.failedOrders.length} refused; ${run.reads} reads, ${run.failedReads.length} failed; ` +
      `longest write pause per batch ${Math.max(...pauses)} ms (the mover's, fence → flip; all: ${pauses.join(', ')}), ` +
      `slowest order while moving ${Math.round(run.slowestOrderMs)} ms`,
  );

  expect(moved.batches.length).toBeGreaterThan(1);
  const wrong = moved.batches.filter(
    (b) => !opts.sources.includes(b.from) || !opts.destinations.includes(b.to),
  );
  expect(wrong).toEqual([]);
  expect(run.failedOrders).toEqual([]);
  expect(run.failedReads).toEqual([]);
  expect([...run.missing]).toEqual([]);
  expect([...run.duplicates]).toEqual([]);
  expect(run.acked.length).toBeGreaterThan(before);

  // Every acknowledged order: readable through each shop exactly once, stored once, and nothing else there.
  for (const customer of CUSTOMERS) {
    const acked = run.acked
      .filter((a) => a.customer === customer)
      .map((a) => a.id)
      .sort((a, b) => a - b);
    for (const shop of shops) {
      const listed = await call(shop, `/orders?customer=${customer}`);
      const ids = (listed.body.orders as { id: number }[]).map((o) => o.id).sort((a, b) => a - b);
      expect({ customer, ids }).toEqual({ customer, ids: acked });
    }
  }
  const copies = await storedCopies(database, shards);
  expect([...copies.values()].every((n) => n === 1)).toBe(true);
  expect(copies.size).toBe(run.acked.length);
  await Promise.all(
    shops.map(async (s) => {
      await s.stop();
      apps.delete(s);
    }),
  );
}

describe('the shop while the operator reshards', () => {
  it('moves 2 → 3 shards under orders and reads: no order lost, missed or doubled', async () => {
    await reshardUnderLoad({
      database: 'grow',
      redisDb: 1,
      from: 2,
      to: 3,
      shards: 3,
      batchBuckets: 64,
      sources: [0, 1],
      destinations: [2],
    });
  }, 90_000);

  it('moves 0 → 2 shards (from the main database) under orders and reads', async () => {
    await reshardUnderLoad({
      database: 'split',
      redisDb: 2,
      from: 0,
      to: 2,
      shards: 2,
      batchBuckets: 128,
      sources: [-1],
      destinations: [0, 1],
    });
  }, 90_000);
});
