// Benchmark (not a test): the operator against the local cluster with N apps. Reports time to Ready, reconcile
// latency (p50/p95) and throughput for no-op passes, API requests per reconcile, and memory.
// Run: make bench (or: eval "$(hack/cluster.sh env)"; tsx bench/reconcile.ts [apps])
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { createNamespace, deleteNamespace, kubectl, REPO_ROOT } from '../test/harness/cluster.js';
import { startInProcess } from '../test/harness/operator.js';

const N = Number(process.argv[2] ?? 20);
const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

// The CRD first: on a fresh cluster the operator would otherwise wait for a resource nobody serves.
kubectl(['apply', '--server-side', '--force-conflicts', '-f', join(REPO_ROOT, 'crds')]);
kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/scalableapps.scalable.dev']);
const ns = createNamespace('bench');
const shop = YAML.parse(readFileSync(join(REPO_ROOT, 'examples/shop.yaml'), 'utf8'));
const minimal = YAML.parse(readFileSync(join(REPO_ROOT, 'examples/minimal.yaml'), 'utf8'));
const apps = Array.from({ length: N }, (_, i) => {
  const base = structuredClone(i % 2 ? minimal : shop);
  base.metadata = { name: `app-${i}`, namespace: ns };
  return base;
});

let requests = 0;
const memStart = process.memoryUsage();
const op = await startInProcess(ns);
const client = op.client as unknown as { opts: { onRequest?: () => void } };
client.opts.onRequest = () => requests++;

const t0 = performance.now();
kubectl(['apply', '--server-side', '-f', '-'], { input: apps.map((a) => JSON.stringify(a)).join('\n') });
for (;;) {
  const list = JSON.parse(kubectl(['-n', ns, 'get', 'sapp', '-o', 'json']).stdout).items as {
    status?: { conditions?: { type: string; status: string }[] };
  }[];
  const ready = list.filter((a) =>
    a.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  );
  if (ready.length === N) break;
  if (performance.now() - t0 > 300_000) throw new Error(`only ${ready.length}/${N} Ready after 5 min`);
  await new Promise((r) => setTimeout(r, 250));
}
const toReady = performance.now() - t0;
await new Promise((r) => setTimeout(r, 2000));
await op.controller.queue.idle();

// No-op passes: every app reconciled R times, one key at a time, timed individually.
const R = 10;
const latencies: number[] = [];
const before = requests;
const tNoop = performance.now();
for (let r = 0; r < R; r++) {
  for (const a of apps) {
    const s = performance.now();
    await op.controller.reconciler.reconcile(`${ns}/${a.metadata.name}`);
    latencies.push(performance.now() - s);
  }
}
const noopSeconds = (performance.now() - tNoop) / 1000;
const noopRequests = requests - before;
const mem = process.memoryUsage();

console.log(`
scalable-app-operator reconcile benchmark (${N} apps: ${Math.ceil(N / 2)} shop, ${Math.floor(N / 2)} minimal; kwok nodes)
  apply -> all Ready             ${(toReady / 1000).toFixed(1)} s
  no-op reconcile latency        p50 ${pct(latencies, 50).toFixed(2)} ms, p95 ${pct(latencies, 95).toFixed(2)} ms
  no-op reconcile throughput     ${(latencies.length / noopSeconds).toFixed(0)} reconciles/s (one worker)
  API requests per no-op pass    ${(noopRequests / latencies.length).toFixed(2)}
  memory (rss / heap used)       ${mb(mem.rss)} / ${mb(mem.heapUsed)} (at start ${mb(memStart.rss)} / ${mb(memStart.heapUsed)})
`);
await op.stop();
deleteNamespace(ns);
