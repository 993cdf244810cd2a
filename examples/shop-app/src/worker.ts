// The worker container's entry point: `node dist/worker.js` (spec.workers.command in examples/shop.yaml). Reads
// the binding from the environment like the web pods, warms the object cache every WORKER_INTERVAL_SECONDS
// (default 30), and on SIGTERM/SIGINT finishes the pass in progress and exits 0. A bad configuration exits 1
// with a message naming the variable.
import { pino } from 'pino';
import { ConfigError, parseConfig } from './config.js';
import { createWorker } from './worker-loop.js';

const log = pino({ name: 'shop-worker' });

let config;
let intervalSeconds = 30;
try {
  config = parseConfig(process.env);
  const interval = process.env.WORKER_INTERVAL_SECONDS;
  if (interval !== undefined) {
    intervalSeconds = Number(interval);
    if (!Number.isFinite(intervalSeconds) || intervalSeconds <= 0) {
      throw new ConfigError(
        'WORKER_INTERVAL_SECONDS',
        `must be a positive number of seconds, got "${interval}"`,
      );
    }
  }
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`shop-worker: invalid configuration: ${err.message}\n`);
  process.exit(1);
}

const worker = createWorker(config, { logger: log, intervalMs: intervalSeconds * 1000 });
log.info({ intervalSeconds }, 'warming the object cache');

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    worker.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}

worker.run().catch((err: unknown) => {
  log.fatal({ err }, 'worker failed');
  process.exit(1);
});
