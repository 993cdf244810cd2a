// The real entry point (src/server.ts in a child process) and graceful shutdown, against real Redis and MariaDB.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { freePort, waitFor } from '../../../test/services/ports.js';
import { startShopServers, type ShopServers } from '../test/servers.js';
import { createShopApp } from './app.js';
import { parseConfig } from './config.js';

const entry = fileURLToPath(new URL('./server.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `node --import tsx src/server.ts` with exactly `env` (and PATH). */
function runServer(env: Record<string, string>): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

describe('server entry point', () => {
  let servers: ShopServers;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    servers = await startShopServers({});
    await servers.createDatabase('shop');
  }, 120_000);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await servers?.stop();
  }, 30_000);

  it.each([
    ['REDIS_URL is missing', { REDIS_URL: undefined }, 'REDIS_URL: is required'],
    ['DATABASE_SHARDS is not JSON', { DATABASE_SHARDS: 'shard-0' }, 'DATABASE_SHARDS: must be a JSON list'],
    [
      'DATABASE_READ_URL is not mysql',
      { DATABASE_READ_URL: 'redis://x:1' },
      'DATABASE_READ_URL: must use the mysql://',
    ],
  ])(
    'exits 1 naming the variable when %s',
    async (_case, change, message) => {
      const env = Object.fromEntries(
        Object.entries({ ...servers.env('shop'), ...change }).filter(([, v]) => v !== undefined),
      ) as Record<string, string>;
      const run = runServer(env);
      children.push(run.child);
      expect(await run.exited).toBe(1);
      expect(run.output()).toContain(`shop: invalid configuration: ${message}`);
      expect(run.output()).not.toContain('p@ss'); // no password in the message
    },
    20_000,
  );

  it('serves, then on SIGTERM reports not ready, drains and exits 0', async () => {
    const port = await freePort();
    const run = runServer({ ...servers.env('shop'), PORT: String(port), POD_NAME: 'entry-pod' });
    children.push(run.child);
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      'the server to be ready',
      async () => (await fetch(`${base}/readyz`)).status === 200,
      20_000,
    );
    expect(await (await fetch(`${base}/whoami`)).json()).toEqual({ pod: 'entry-pod' });

    run.child.kill('SIGTERM');
    await waitFor('readyz to say 503', async () => (await fetch(`${base}/readyz`)).status === 503, 2_000);
    const draining = await fetch(`${base}/readyz`);
    expect(((await draining.json()) as { checks: Record<string, string> }).checks.shutdown).toBe(
      'shutting down',
    );
    expect((await fetch(`${base}/products/1`)).status).toBe(200); // still serving while load balancers catch up
    expect(await run.exited).toBe(0);
    expect(run.output()).toMatch(/"msg":"stopped"/);
  }, 30_000);

  it('drains until no request has come for a quiet period (a sticky load balancer still sends to a terminating pod until its readiness fails), probes aside', async () => {
    const app = createShopApp(parseConfig({ ...servers.env('shop'), PORT: '0' }), {
      logger: pino({ level: 'silent' }),
      host: '127.0.0.1',
      drainDelayMs: 400,
      drainMaxMs: 10_000,
    });
    await app.start();
    const stopBegan = Date.now();
    let stoppedAt = 0;
    const stopping = app.stop().then(() => (stoppedAt = Date.now()));
    // A shopper still pinned to this pod for 1.5 s (three times the quiet period): every request is answered.
    const statuses: (number | string)[] = [];
    while (Date.now() - stopBegan < 1500) {
      statuses.push(
        await fetch(`${app.url}/products/1`).then(
          (r) => r.status,
          (e: Error) => e.message,
        ),
      );
      await sleep(100);
    }
    const lastRequest = Date.now();
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // Probes do not keep it draining.
    while (!stoppedAt && Date.now() - lastRequest < 3000) {
      await fetch(`${app.url}/readyz`).catch(() => undefined);
      await sleep(100);
    }
    await stopping;
    expect(stoppedAt - lastRequest).toBeLessThan(1500);
  }, 20_000);

  it('finishes a request that is in flight when stop() begins, and refuses new connections', async () => {
    const app = createShopApp(parseConfig({ ...servers.env('shop'), PORT: '0' }), {
      logger: pino({ level: 'silent' }),
      host: '127.0.0.1',
    });
    await app.start();
    const body = JSON.stringify({ productId: 2, quantity: 1 });
    let finish: (rest: string) => void = () => {};
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        `${app.url}/cart`,
        { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length } },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 5)); // the request has begun…
      finish = (rest) => req.end(rest);
    });
    await sleep(100);
    let stopped = false;
    const stopping = app.stop().then(() => {
      stopped = true;
    });
    await sleep(200);
    // …stop() waits for it, and accepts no new connection meanwhile…
    await expect(fetch(`${app.url}/healthz`)).rejects.toThrow();
    expect(stopped).toBe(false);
    finish(body.slice(5)); // …and it completes.
    const { status, text } = await response;
    expect(status).toBe(200);
    expect(JSON.parse(text).items).toEqual([expect.objectContaining({ productId: 2, quantity: 1 })]);
    await stopping;
    expect(stopped).toBe(true);
  }, 20_000);
});
