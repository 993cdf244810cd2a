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
  // A terminating pod keeps getting requests until its load balancer sees it not ready (the operator's readiness
  // probe: one failure, every periodSeconds): answer until 2 s pass without one, at most 20 s, then give
  // in-flight requests 8 s; 30 s in all, the pod's default grace period.
  drainDelayMs: 2_000,
  drainMaxMs: 20_000,
  shutdownTimeoutMs: 8_000,
});

runUntilSignal(log, { run: () => app.start(), stop: () => app.stop(), failure: 'could not start' });
