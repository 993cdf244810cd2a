// The container's entry point: `node dist/server.js`. Reads the binding from the environment, starts the app,
// and on SIGTERM/SIGINT drains and exits 0. A bad configuration exits 1 with a message naming the variable.
import { pino } from 'pino';
import { createShopApp } from './app.js';
import { parseConfig } from './config.js';
import { configOrExit, runUntilSignal } from './entrypoint.js';

const log = pino({ name: 'shop' });
const config = configOrExit('shop', () => parseConfig(process.env));

const app = createShopApp(config, {
  logger: log,
  // Kubernetes removes a terminating pod from Service endpoints asynchronously: keep answering for a moment.
  drainDelayMs: 2_000,
  shutdownTimeoutMs: 15_000,
});

runUntilSignal(log, { run: () => app.start(), stop: () => app.stop(), failure: 'could not start' });
