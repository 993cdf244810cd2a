// The worker container's entry point: `node dist/worker.js` (spec.workers.command in examples/shop.yaml). Reads
// the binding from the environment like the web pods, warms the object cache every WORKER_INTERVAL_SECONDS
// (default 30), and on SIGTERM/SIGINT finishes the pass in progress and exits 0. A bad configuration exits 1
// with a message naming the variable.
import { pino } from 'pino';
import { ConfigError, parseConfig } from './config.js';
import { configOrExit, runUntilSignal } from './entrypoint.js';
import { createWorker } from './worker-loop.js';

const log = pino({ name: 'shop-worker' });

const { config, intervalSeconds } = configOrExit('shop-worker', () => {
  const parsed = parseConfig(process.env);
  const interval = process.env.WORKER_INTERVAL_SECONDS;
  const seconds = interval === undefined ? 30 : Number(interval);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new ConfigError(
      'WORKER_INTERVAL_SECONDS',
      `must be a positive number of seconds, got "${interval}"`,
    );
  }
  return { config: parsed, intervalSeconds: seconds };
});

const worker = createWorker(config, { logger: log, intervalMs: intervalSeconds * 1000 });
log.info({ intervalSeconds }, 'warming the object cache');
runUntilSignal(log, { run: () => worker.run(), stop: () => worker.stop(), failure: 'worker failed' });
