// The background worker against real Redis and MariaDB: it fills the object cache ahead of the shoppers, never
// replaces a page that is there, puts back what a write invalidated (with the write's values), and its entry
// point (src/worker.ts in a child process) runs passes and stops cleanly.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createClient } from 'redis';
import { waitFor } from '../../../test/services/ports.js';
import { REDIS_PASSWORD, startShopServers, type ShopServers } from '../test/servers.js';
import { createShopApp, type ShopApp } from './app.js';
import { productPageKey } from './catalog.js';
import { parseConfig } from './config.js';
import { SEED_PRODUCT_COUNT } from './migrations.js';
import { createWorker } from './worker-loop.js';

const silent = pino({ level: 'silent' });
const entry = fileURLToPath(new URL('./worker.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

let servers: ShopServers;
let app: ShopApp;

beforeAll(async () => {
  servers = await startShopServers({ mainReplica: true });
  await servers.createDatabase('shop');
  // The web app migrates and seeds the catalog; the worker only reads it.
  app = createShopApp(parseConfig({ ...servers.env('shop', 4), PORT: '0' }), {
    host: '127.0.0.1',
    logger: silent,
    drainDelayMs: 0,
    secondDeleteMs: 50,
  });
  await app.start();
}, 120_000);

afterAll(async () => {
  await app?.stop();
  await servers?.stop();
}, 60_000);

async function redisDb(db: number) {
  const client = createClient({ url: `${servers.redis.url}/${db}` });
  await client.connect();
  return client;
}

const productQueries = async () =>
  (await app.metrics.dbQueries.get()).values.reduce((sum, v) => sum + v.value, 0);

describe('the worker', () => {
  it('stores every product page Redis lacks, then finds them present; a first visit is a hit', async () => {
    const redis = await redisDb(4);
    await redis.flushDb();
    const worker = createWorker(parseConfig(servers.env('shop', 4)), { logger: silent });
    try {
      const first = await worker.pass();
      expect(first).toMatchObject({ products: SEED_PRODUCT_COUNT, stored: SEED_PRODUCT_COUNT, failed: 0 });
      expect(await redis.exists(productPageKey(1))).toBe(1);
      expect(await redis.ttl(productPageKey(1))).toBeGreaterThan(0);
      const second = await worker.pass();
      expect(second).toMatchObject({ stored: 0, present: SEED_PRODUCT_COUNT, failed: 0 });

      const before = await productQueries();
      const res = await fetch(`${app.url}/products/3`);
      expect(res.headers.get('x-cache')).toBe('hit');
      expect(await productQueries()).toBe(before); // no database query for a page the worker assembled
    } finally {
      await worker.stop();
      await redis.quit();
    }
  }, 60_000);

  it('never replaces a cached page, and puts back an invalidated page with the write in it', async () => {
    const redis = await redisDb(4);
    const worker = createWorker(parseConfig(servers.env('shop', 4)), { logger: silent });
    try {
      await worker.pass();
      await redis.set(productPageKey(5), JSON.stringify({ marker: 'settled by a reader' }));
      await worker.pass();
      expect(JSON.parse((await redis.get(productPageKey(5)))!)).toEqual({ marker: 'settled by a reader' });

      const put = await fetch(`${app.url}/products/5/inventory`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ priceCents: 4321 }),
      });
      expect(put.status).toBe(200);
      await servers.syncReplicas();
      await new Promise((r) => setTimeout(r, 100)); // past the second delete
      expect(await redis.exists(productPageKey(5))).toBe(0);
      expect((await worker.pass()).stored).toBe(1);
      expect(JSON.parse((await redis.get(productPageKey(5)))!)).toMatchObject({ id: 5, priceCents: 4321 });
    } finally {
      await worker.stop();
      await redis.quit();
    }
  }, 60_000);
});

describe('worker entry point', () => {
  const start = (env: Record<string, string | undefined>) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', ...servers.env('shop', 5), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, output: () => output, exited };
  };

  it('warms the cache in passes and exits 0 on SIGTERM', async () => {
    const redis = await redisDb(5);
    await redis.flushDb();
    const run = start({ WORKER_INTERVAL_SECONDS: '0.5' });
    try {
      await waitFor('two warm passes', async () => run.output().split('"warm pass"').length > 2, 30_000);
      const passes = run
        .output()
        .split('\n')
        .filter((l) => l.includes('"warm pass"'))
        .map((l) => JSON.parse(l) as { stored: number; present: number });
      expect(passes[0]).toMatchObject({ stored: SEED_PRODUCT_COUNT, present: 0 });
      expect(passes[1]).toMatchObject({ stored: 0, present: SEED_PRODUCT_COUNT });
      expect(await redis.dbSize()).toBe(SEED_PRODUCT_COUNT);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      for (const secret of [REDIS_PASSWORD, encodeURIComponent(REDIS_PASSWORD)]) {
        expect(run.output()).not.toContain(secret);
      }
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
      await redis.quit();
    }
  }, 60_000);

  it('exits 1 naming the variable when WORKER_INTERVAL_SECONDS is not a positive number', async () => {
    const run = start({ WORKER_INTERVAL_SECONDS: 'soon' });
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain(
      'WORKER_INTERVAL_SECONDS: must be a positive number of seconds, got "soon"',
    );
  }, 30_000);
});
