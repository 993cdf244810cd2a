// What the shop's container entry points (server.ts, worker.ts) share: a bad configuration exits 1 with a message
// naming the variable (never a value), and SIGTERM/SIGINT stop the process once, exiting 0 (1 if stopping fails).
import type { Logger } from 'pino';
import { ConfigError } from './config.js';

/** The configuration `read` returns; a ConfigError exits 1 with `<program>: invalid configuration: ...`. */
export function configOrExit<T>(program: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${program}: invalid configuration: ${err.message}\n`);
    process.exit(1);
  }
}

/**
 * Runs `run` until SIGTERM or SIGINT, then `stop` (once) and exits. A failure of `run` that is not part of
 * stopping exits 1 with `failure` as the log message.
 */
export function runUntilSignal(
  log: Logger,
  { run, stop, failure }: { run: () => Promise<unknown>; stop: () => Promise<void>; failure: string },
): void {
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      stop().then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
  run().catch((err: unknown) => {
    if (stopping) return;
    log.fatal({ err }, failure);
    process.exit(1);
  });
}
