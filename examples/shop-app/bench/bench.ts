// A small, bounded benchmark of product pages with the object cache on and off, side by side.
//
//   npx tsx examples/shop-app/bench/bench.ts [--requests 4000] [--seconds 10] [--concurrency 16]
//
// Starts real Redis and MariaDB (a primary and a replica, via the test harness), four app processes
// (src/server.ts: two with CACHE_OBJECTS=on, two with off) on loopback ports, and for each mode drives a
// warm-up and then a bounded load (at most --requests requests or --seconds seconds) round-robin over its two
// instances. Prints requests/s, p50/p95/p99 latency and database queries per request (from each instance's
// /metrics). Everything it starts is stopped at the end, also on Ctrl-C.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, waitFor } from '../../../test/services/ports.js';
import { startShopServers, type ShopServers } from '../test/servers.js';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '4000' },
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '16' },
    warmup: { type: 'string', default: '300' },
  },
});
const MAX_REQUESTS = Number(args.requests);
const MAX_SECONDS = Number(args.seconds);
const CONCURRENCY = Number(args.concurrency);
const WARMUP = Number(args.warmup);
const PRODUCTS = 24; // the seeded catalog

const entry = fileURLToPath(new URL('../src/server.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

interface Instance {
  url: string;
  child: ChildProcess;
}

async function startInstance(env: Record<string, string>, name: string): Promise<Instance> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port), POD_NAME: name },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${name} ready`, async () => (await fetch(`${url}/readyz`)).status === 200, 30_000);
  return { url, child };
}

function stopInstance({ child }: Instance): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Sum of a metric's samples in a Prometheus text exposition (optionally only those with `label`). */
async function metric(instance: Instance, name: string, label = ''): Promise<number> {
  const text = await (await fetch(`${instance.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(label))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

interface Result {
  requests: number;
  errors: number;
  seconds: number;
  latencies: number[];
  hits: number;
}

async function load(instances: Instance[], maxRequests: number, maxSeconds: number): Promise<Result> {
  const deadline = performance.now() + maxSeconds * 1000;
  const started = performance.now();
  const latencies: number[] = [];
  let issued = 0;
  let errors = 0;
  let hits = 0;
  const worker = async () => {
    while (issued < maxRequests && performance.now() < deadline) {
      const n = issued++;
      const instance = instances[n % instances.length]!;
      const id = 1 + Math.floor(Math.random() * PRODUCTS);
      const t0 = performance.now();
      try {
        const res = await fetch(`${instance.url}/products/${id}`);
        await res.arrayBuffer();
        if (res.status !== 200) errors++;
        if (res.headers.get('x-cache') === 'hit') hits++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return {
    requests: latencies.length,
    errors,
    seconds: (performance.now() - started) / 1000,
    latencies,
    hits,
  };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function measure(label: string, instances: Instance[]) {
  await load(instances, WARMUP, MAX_SECONDS); // fills the cache (when on) and the connection pools
  const queriesBefore = (await Promise.all(instances.map((i) => metric(i, 'shop_db_queries_total')))).reduce(
    (a, b) => a + b,
    0,
  );
  const result = await load(instances, MAX_REQUESTS, MAX_SECONDS);
  const queriesAfter = (await Promise.all(instances.map((i) => metric(i, 'shop_db_queries_total')))).reduce(
    (a, b) => a + b,
    0,
  );
  const sorted = [...result.latencies].sort((a, b) => a - b);
  return {
    label,
    requests: result.requests,
    errors: result.errors,
    rps: result.requests / result.seconds,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    queriesPerRequest: (queriesAfter - queriesBefore) / Math.max(1, result.requests),
    hitRatio: result.hits / Math.max(1, result.requests),
  };
}

let servers: ShopServers | undefined;
const instances: Instance[] = [];
let cleaning: Promise<void> | undefined;
const cleanup = () =>
  (cleaning ??= (async () => {
    await Promise.allSettled(instances.map(stopInstance));
    await servers?.stop();
  })());
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanup().then(() => process.exit(130)));
}

try {
  console.log('starting Redis, a MariaDB primary and a replica …');
  servers = await startShopServers({ mainReplica: true });
  await servers.createDatabase('shop');
  const env = servers.env('shop');
  // One instance first, so that the migrations and the seed are in place before the others start.
  instances.push(await startInstance({ ...env, CACHE_OBJECTS: 'on' }, 'cache-on-1'));
  instances.push(
    ...(await Promise.all([
      startInstance({ ...env, CACHE_OBJECTS: 'on' }, 'cache-on-2'),
      startInstance({ ...env, CACHE_OBJECTS: 'off' }, 'cache-off-1'),
      startInstance({ ...env, CACHE_OBJECTS: 'off' }, 'cache-off-2'),
    ])),
  );
  await servers.syncReplicas();
  console.log(
    `load: GET /products/<1..${PRODUCTS}>, ${CONCURRENCY} concurrent, at most ${MAX_REQUESTS} requests or ` +
      `${MAX_SECONDS} s per mode, after ${WARMUP} warm-up requests; 2 app instances per mode, round-robin\n`,
  );
  const on = await measure('object cache on', instances.slice(0, 2));
  const off = await measure('object cache off', instances.slice(2, 4));

  const rows: [string, (r: typeof on) => string][] = [
    ['requests', (r) => String(r.requests)],
    ['errors', (r) => String(r.errors)],
    ['requests/s', (r) => r.rps.toFixed(0)],
    ['p50 latency (ms)', (r) => r.p50.toFixed(2)],
    ['p95 latency (ms)', (r) => r.p95.toFixed(2)],
    ['p99 latency (ms)', (r) => r.p99.toFixed(2)],
    ['db queries/request', (r) => r.queriesPerRequest.toFixed(3)],
    ['cache hit ratio', (r) => r.hitRatio.toFixed(3)],
  ];
  const width = [20, 18, 18];
  console.log(['', on.label, off.label].map((c, i) => c.padEnd(width[i]!)).join(' '));
  for (const [name, value] of rows) {
    console.log([name, value(on), value(off)].map((c, i) => c.padEnd(width[i]!)).join(' '));
  }
  console.log(`\nspeed-up with the cache: ${(on.rps / off.rps).toFixed(2)}x requests/s`);
} finally {
  await cleanup();
}
