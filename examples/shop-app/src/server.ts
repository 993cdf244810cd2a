// The container's entry point: `node dist/server.js`. Reads the binding from the environment, starts the app,
// and on SIGTERM/SIGINT drains and exits 0. A bad configuration exits 1 with a message naming the variable.
import { pino } from 'pino';
import { createShopApp } from './app.js';
import { ConfigError, parseConfig } from './config.js';

const log = pino({ name: 'shop' });

let config;
try {
  config = parseConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`shop: invalid configuration: ${err.message}\n`);
  process.exit(1);
}

const app = createShopApp(config, {
  logger: log,
  // Kubernetes removes a terminating pod from Service endpoints asynchronously: keep answering for a moment.
  drainDelayMs: 2_000,
  shutdownTimeoutMs: 15_000,
});

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}

app.start().catch((err: unknown) => {
  if (stopping) return;
  log.fatal({ err }, 'could not start');
  process.exit(1);
});
