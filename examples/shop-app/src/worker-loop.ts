// The shop's background worker ("async workers assembling cached objects"): every interval it assembles the
// product pages of the catalog that Redis lacks and stores them, so that a shopper's first visit to a page is a
// cache hit instead of four replica queries. It reads the same binding as the web pods and serves no port.
// createWorker() builds one; src/worker.ts is the container's entry point around it.
import { setTimeout as sleep } from 'node:timers/promises';
import { pino, type Logger } from 'pino';
import { listProducts, ProductPages } from './catalog.js';
import type { Config } from './config.js';
import { Databases, withTimeout } from './db.js';
import { createMetrics } from './metrics.js';
import { createRedisClient } from './redis.js';

export interface WarmPass {
  /** Products in the catalog listing (the first 200 by id, like the catalog page). */
  products: number;
  stored: number;
  present: number;
  failed: number;
  ms: number;
}

export interface WorkerOptions {
  logger?: Logger;
  /** Pause between the end of one pass and the start of the next. */
  intervalMs?: number;
  /** Pages assembled at once. */
  concurrency?: number;
}

export interface ShopWorker {
  /** Runs passes until stop(); resolves when the loop has ended. */
  run(): Promise<void>;
  /** One pass (what run() repeats). */
  pass(): Promise<WarmPass>;
  /** Ends the loop after the pass in progress, then closes the connections. */
  stop(): Promise<void>;
  readonly passes: number;
}

export function createWorker(config: Config, options: WorkerOptions = {}): ShopWorker {
  const log = options.logger ?? pino({ name: 'shop-worker' });
  const intervalMs = options.intervalMs ?? 30_000;
  const concurrency = options.concurrency ?? 4;
  const metrics = createMetrics();
  const dbs = new Databases(config, metrics);
  let redisDown = false;
  const redis = createRedisClient(config.redisUrl, (err) => {
    if (!redisDown) log.warn({ err: err.message }, 'redis connection lost; reconnecting');
    redisDown = true;
  });
  redis.on('ready', () => (redisDown = false));
  const pages = new ProductPages(redis, dbs, metrics, log, { enabled: true });
  const abort = new AbortController();
  let passes = 0;
  let loop: Promise<void> | undefined;
  // The client reconnects by itself; the first connection is awaited by every pass until it is made.
  let connecting: Promise<unknown> | undefined;
  const connected = () => withTimeout((connecting ??= redis.connect()), 5_000, 'redis: not connected');

  async function pass(): Promise<WarmPass> {
    const started = Date.now();
    await connected();
    const ids = (await listProducts(dbs.catalog)).map((p) => p.id);
    const result: WarmPass = { products: ids.length, stored: 0, present: 0, failed: 0, ms: 0 };
    let next = 0;
    const lane = async () => {
      while (next < ids.length && !abort.signal.aborted) {
        const id = ids[next++]!;
        try {
          const outcome = await pages.warm(id);
          if (outcome === 'stored') result.stored++;
          else if (outcome === 'present') result.present++;
        } catch (err) {
          result.failed++;
          if (result.failed === 1) log.warn({ err: String(err), product: id }, 'warming a page failed');
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    result.ms = Date.now() - started;
    passes++;
    return result;
  }

  async function runLoop(): Promise<void> {
    while (!abort.signal.aborted) {
      try {
        log.info(await pass(), 'warm pass');
      } catch (err) {
        // The catalog may not exist yet (the web pods migrate it) or the replica may be down: try next time.
        log.warn({ err: String(err) }, 'warm pass failed');
      }
      await sleep(intervalMs, undefined, { signal: abort.signal }).catch(() => undefined);
    }
  }

  return {
    get passes() {
      return passes;
    },
    pass,
    run() {
      loop ??= runLoop();
      return loop;
    },
    async stop() {
      abort.abort();
      await loop;
      pages.close();
      await dbs.end();
      if (redis.isReady) await redis.close().catch(() => redis.destroy());
      else if (redis.isOpen) redis.destroy();
      log.info('stopped');
    },
  };
}
