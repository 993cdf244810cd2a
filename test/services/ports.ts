// Loopback TCP ports for the servers the tests start. Not port 0: the kernel hands those out of its ephemeral
// range, where a port freed by a killed server can go to another suite's server or to any outgoing connection
// before the server restarts on it (a Redis restarted on its port then answered with another suite's keys). Each
// jest worker walks its own slice of 10000-17499, below the ephemeral range and the local clusters' ports, from a
// random start, and never hands a port out twice; a port something already listens on is skipped.
import { createServer } from 'node:net';

const BASE = 10_000;
const SLICE = 500;
const SLICES = 15;
const worker = Number(process.env.JEST_WORKER_ID ?? 1);
const sliceStart = BASE + ((worker - 1) % SLICES) * SLICE;
let next = Math.floor(Math.random() * SLICE);
let handedOut = 0;

const canListen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });

export async function freePort(): Promise<number> {
  while (handedOut < SLICE) {
    const port = sliceStart + (next++ % SLICE);
    handedOut++;
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port left in ${sliceStart}-${sliceStart + SLICE - 1} (jest worker ${worker})`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it resolves true or `timeoutMs` passes; the last error is part of the timeout message. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
