// Benchmark (not a test): the built operator (`node dist/src/cli.js start`, its own process) converging N
// minimal apps and S shop apps (examples/shop.yaml; kwok simulates their pods) on the local cluster, side by
// side in one run with the baseline: plain server-side apply of the same objects (from the built `render`), 8
// kubectl at a time, to the same end state (every Deployment available, every StatefulSet ready, every Ingress
// admitted by the benchmark standing in for an Ingress controller). Reports time to converge, API requests per
// app and where they go (verb, resource, code, and the time they took), reconciles per app, the operator's RSS
// (start, peak, steady once settled, after a restart), its CPU seconds, a no-op resync's requests
// and duration, and how long a user's edit takes while every app resyncs. Writes .local/bench/scale.json and
// scale-<APPS>+<SHOP_APPS>.json.
// Run: make bench APPS=200 SHOP_APPS=10 (the local cluster gets SAPP_KWOK_NODES nodes; 110 pods fit on each).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { createNamespace, deleteNamespace, kubectl, REPO_ROOT } from '../test/harness/cluster.js';
import { freePort, sleep } from '../test/services/ports.js';

const MINIMAL = Number(process.argv[2] ?? 200);
const SHOPS = Number(process.argv[3] ?? 0);
const N = MINIMAL + SHOPS;
// The user's edit during the resync scales app-0, a minimal app.
if (!(MINIMAL >= 1)) throw new Error('APPS must be at least 1');
const PARALLEL = 8;
const RESYNC_SECONDS = 40;
// RSS is sampled this long once the resync is measured (with a resync every RESYNC_SECONDS meanwhile), and after
// a restart; "steady" is the median of the last minute: V8 keeps the heap it grew while converging until its
// memory reducer finds the process idle (in a 300-app probe, about 110 s after the last app was Ready).
const SETTLE_SECONDS = 180;
const RESTART_SETTLE_SECONDS = 90;
const started = Date.now();
const progress = (what: string) =>
  console.log(`[bench-scale] ${what} (${((Date.now() - started) / 1000).toFixed(0)} s)`);

const example = (file: string) => YAML.parse(readFileSync(join(REPO_ROOT, 'examples', file), 'utf8'));
const [minimal, shop] = [example('minimal.yaml'), example('shop.yaml')];
const appsIn = (ns: string) => [
  ...Array.from({ length: MINIMAL }, (_, i) => ({
    ...structuredClone(minimal),
    metadata: { name: `app-${i}`, namespace: ns },
  })),
  ...Array.from({ length: SHOPS }, (_, i) => ({
    ...structuredClone(shop),
    metadata: { name: `shop-${i}`, namespace: ns },
  })),
];

/** Polls `done` every 2 s (printing progress every 30 s at most) until it reaches `total`; returns the seconds. */
async function until(what: string, t0: number, total: number, done: () => number): Promise<number> {
  let lastPrint = Date.now();
  for (;;) {
    const n = done();
    if (n >= total) return (performance.now() - t0) / 1000;
    if (Date.now() - lastPrint >= 30_000) {
      progress(`${what}: ${n}/${total}`);
      lastPrint = Date.now();
    }
    await sleep(2000);
  }
}

interface Item {
  kind: string;
  metadata: { labels?: Record<string, string>; ownerReferences?: unknown };
  spec?: { replicas?: number };
}
/** One jsonpath line per object (a JSON list of 1,000 objects is more than kubectl's output buffer here). */
const column = (ns: string, kind: string, jsonpath: string) =>
  kubectl(['-n', ns, 'get', kind, '-o', `jsonpath={range .items[*]}${jsonpath}{"\\n"}{end}`])
    .stdout.split('\n')
    .filter(Boolean);
const readyApps = (ns: string) =>
  column(ns, 'sapp', '{.status.conditions[?(@.type=="Ready")].status}').filter((s) => s === 'True').length;
const caughtUp = (lines: string[]) =>
  lines.filter((s) => {
    const [ready, wanted] = s.split('/').map(Number);
    return (ready ?? 0) >= (wanted ?? 1);
  }).length;
/** Deployments available, StatefulSets ready and Ingresses admitted: the end state both phases reach. */
const workloadsReady = (ns: string) =>
  caughtUp(column(ns, 'deployments', '{.status.availableReplicas}/{.spec.replicas}')) +
  caughtUp(column(ns, 'statefulsets', '{.status.readyReplicas}/{.spec.replicas}')) +
  column(ns, 'ingresses', '{.status.loadBalancer.ingress[0].ip}').length;

/**
 * Stands in for an Ingress controller (the shop's ExposureReady waits for an address): every 2 s, gives each
 * Ingress without an address one. Returns the function that stops it.
 */
function admitIngresses(ns: string): () => void {
  const status = JSON.stringify({ status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } } });
  let stopped = false;
  void (async () => {
    while (!stopped) {
      for (const line of column(ns, 'ingresses', '{.metadata.name} {.status.loadBalancer.ingress[0].ip}')) {
        const [name, ip] = line.split(' ');
        if (ip || !name) continue;
        kubectl(['-n', ns, 'patch', 'ingress', name, '--subresource=status', '--type=merge', '-p', status], {
          allowFail: true,
        });
      }
      await sleep(2000);
    }
  })();
  return () => (stopped = true);
}

// ---- the operator, built, as its own process

interface Operator {
  child: ChildProcess;
  metrics(): Promise<string>;
  rssMiB(): number;
  /** User + system CPU seconds the process has used. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** The node flags the image starts the operator with (the Dockerfile's exec-form CMD), so the benchmark runs it alike. */
function imageNodeFlags(): string[] {
  const cmd = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('CMD '))
    .at(-1);
  const argv = JSON.parse(cmd!.slice(4)) as string[];
  const script = argv.indexOf('dist/src/cli.js');
  if (argv[0] !== 'node' || script < 0) throw new Error(`unexpected Dockerfile CMD: ${cmd}`);
  return argv.slice(1, script);
}

async function startOperator(ns: string): Promise<Operator> {
  const port = await freePort();
  mkdirSync(join(REPO_ROOT, '.local/logs'), { recursive: true });
  const out = openSync(join(REPO_ROOT, '.local/logs', `bench-scale-operator-${process.pid}.log`), 'a');
  // As the image runs it (Dockerfile CMD).
  const child = spawn(process.execPath, [...imageNodeFlags(), join(REPO_ROOT, 'dist/src/cli.js'), 'start'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      WATCH_NAMESPACE: ns,
      HTTP_PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      LEADER_ELECT: 'false',
      RESYNC_PERIOD_SECONDS: String(RESYNC_SECONDS),
    },
    stdio: ['ignore', out, out],
  });
  process.once('exit', () => child.kill('SIGKILL'));
  const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 120) throw new Error('the operator did not become ready');
    await sleep(500);
  }
  const rssMiB = () => {
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
  };
  const cpuSeconds = () => {
    // Fields 14 and 15 of /proc/<pid>/stat (utime, stime) in clock ticks, counted after the command's ")".
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  };
  const stop = () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { child, metrics, rssMiB, cpuSeconds, stop };
}

const CLOCK_TICKS = Number(spawnSyncOut('getconf', ['CLK_TCK']).trim());

/** Samples the operator's RSS every 5 s for `seconds` (printing it every 30 s); returns the last minute's median. */
async function settledRss(op: Operator, seconds: number, what: string): Promise<number> {
  const samples: number[] = [];
  for (let t = 0; t < seconds; t += 5) {
    await sleep(5000);
    samples.push(op.rssMiB());
    if (t % 30 === 25) progress(`${what}: RSS ${samples.at(-1)!.toFixed(0)} MiB (${t + 5}/${seconds} s)`);
  }
  const lastMinute = samples.slice(-12).sort((a, b) => a - b);
  return lastMinute[Math.floor(lastMinute.length / 2)]!;
}

const counter = (text: string, name: string) =>
  [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce(
    (n, m) => n + Number(m[1]),
    0,
  );

/** The requests of each `verb resource code`, and the seconds they took, from the operator's metrics. */
function requestsByKind(text: string): Map<string, { count: number; seconds: number }> {
  const byKind = new Map<string, { count: number; seconds: number }>();
  const series = /^scalableapp_api_request_duration_seconds_(count|sum)\{([^}]*)\} (\S+)$/gm;
  for (const [, what, labels, value] of text.matchAll(series)) {
    const l = Object.fromEntries([...labels!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const key = `${l.verb} ${l.resource} ${l.code}`;
    const entry = byKind.get(key) ?? { count: 0, seconds: 0 };
    if (what === 'count') entry.count += Number(value);
    else entry.seconds += Number(value);
    byKind.set(key, entry);
  }
  return byKind;
}

/** What happened between two scrapes of the metrics: requests by kind, reconciles and their seconds. */
function between(before: string, after: string) {
  const [b, a] = [requestsByKind(before), requestsByKind(after)];
  const requests = [...a]
    .map(([kind, { count, seconds }]) => ({
      kind,
      count: count - (b.get(kind)?.count ?? 0),
      seconds: seconds - (b.get(kind)?.seconds ?? 0),
    }))
    .filter((r) => r.count > 0)
    .sort((x, y) => y.count - x.count);
  const diff = (name: string) => counter(after, name) - counter(before, name);
  return {
    requests,
    reconciles: diff('controller_runtime_reconcile_total'),
    reconcileSeconds: diff('controller_runtime_reconcile_time_seconds_sum'),
  };
}

async function operatorRun() {
  const ns = createNamespace('bench-scale-op');
  const op = await startOperator(ns);
  const rssStart = op.rssMiB();
  let rssPeak = rssStart;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, op.rssMiB())), 500);
  const stopAdmitting = admitIngresses(ns);
  const metricsBefore = await op.metrics();
  const requestsBefore = counter(metricsBefore, 'rest_client_requests_total');
  const cpuBefore = op.cpuSeconds();
  progress(`operator (pid ${op.child.pid}, ${rssStart.toFixed(0)} MiB) up; applying ${N} apps`);
  const t0 = performance.now();
  kubectl(['apply', '--server-side', '-f', '-'], {
    input: appsIn(ns)
      .map((a) => JSON.stringify(a))
      .join('\n'),
  });
  const seconds = await until('apps Ready', t0, N, () => readyApps(ns));
  const metricsReady = await op.metrics();
  const requests = counter(metricsReady, 'rest_client_requests_total') - requestsBefore;
  const convergence = between(metricsBefore, metricsReady);
  const cpuSeconds = op.cpuSeconds() - cpuBefore;
  progress(
    `operator: ${N} apps Ready in ${seconds.toFixed(1)} s, ${requests} requests, ${cpuSeconds.toFixed(1)} s CPU`,
  );

  // A periodic resync of every app: requests it makes, how long it takes, and an edit applied meanwhile.
  const reconciles = async () => counter(await op.metrics(), 'controller_runtime_reconcile_total');
  const base = await reconciles();
  while ((await reconciles()) - base < N / 10) await sleep(100); // the resync has begun
  const resyncStarted = performance.now();
  const reqAtResync = counter(await op.metrics(), 'rest_client_requests_total');
  const editAt = performance.now();
  kubectl(['-n', ns, 'patch', 'sapp', 'app-0', '--type=merge', '-p', '{"spec":{"web":{"replicas":3}}}']);
  let editMs = -1;
  while (editMs < 0) {
    const d = JSON.parse(kubectl(['-n', ns, 'get', 'deployment', 'app-0-web', '-o', 'json']).stdout) as Item;
    if (d.spec?.replicas === 3) editMs = performance.now() - editAt;
    else await sleep(50);
  }
  while ((await reconciles()) - base < N) await sleep(200);
  const resyncSeconds = (performance.now() - resyncStarted) / 1000;
  const resyncRequests = counter(await op.metrics(), 'rest_client_requests_total') - reqAtResync;

  // Steady: the same process, settled, resyncing every RESYNC_SECONDS.
  const settled = await settledRss(op, SETTLE_SECONDS, 'settling');
  clearInterval(sampler);
  await op.stop();

  // After a restart (an upgrade, a rescheduled pod): a new process lists every app and reconciles each once.
  const restartedAt = performance.now();
  const restarted = await startOperator(ns);
  while (counter(await restarted.metrics(), 'controller_runtime_reconcile_total') < N) await sleep(500);
  const restartSyncSeconds = (performance.now() - restartedAt) / 1000;
  const afterRestart = await settledRss(restarted, RESTART_SETTLE_SECONDS, 'after a restart');
  const restart = between('', await restarted.metrics()); // everything since it started
  await restarted.stop();
  stopAdmitting();
  await deleteAndWait(ns);
  return {
    seconds,
    requests,
    convergence,
    cpuSeconds,
    rssStart,
    rssPeak,
    rssSteady: settled,
    rssAfterRestart: afterRestart,
    restartSyncSeconds,
    restartRequests: restart.requests,
    editMs,
    resyncSeconds,
    resyncRequests,
  };
}

// ---- the baseline: the same objects, server-side applied by kubectl

async function bareRun() {
  const ns = createNamespace('bench-scale-bare');
  const file = join(REPO_ROOT, '.local/bench/apps.yaml');
  writeFileSync(
    file,
    appsIn(ns)
      .map((a) => YAML.stringify(a))
      .join('---\n'),
  );
  const r = spawnSyncOut(process.execPath, [join(REPO_ROOT, 'dist/src/cli.js'), 'render', '-f', file]);
  const objects = YAML.parseAllDocuments(r)
    .map((d) => d.toJSON() as Item | null)
    .filter((o): o is Item => o !== null)
    .map((o) => {
      // Owned by no app here (the render's placeholder owner would have the garbage collector delete them).
      delete o.metadata.ownerReferences;
      return o;
    });
  // The end state: each Deployment, StatefulSet and Ingress caught up.
  const workloads = objects.filter((o) => ['Deployment', 'StatefulSet', 'Ingress'].includes(o.kind)).length;
  const byApp = new Map<string, Item[]>();
  for (const o of objects) {
    const app = o.metadata.labels?.['app.kubernetes.io/instance'] ?? 'other';
    byApp.set(app, [...(byApp.get(app) ?? []), o]);
  }
  progress(`bare: ${objects.length} objects of ${byApp.size} apps, ${PARALLEL} kubectl at a time`);
  const queue = [...byApp.values()];
  const stopAdmitting = admitIngresses(ns);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      for (let batch = queue.shift(); batch; batch = queue.shift()) {
        await run(
          'kubectl',
          ['apply', '--server-side', '--field-manager=bench', '-f', '-'],
          JSON.stringify({ apiVersion: 'v1', kind: 'List', items: batch }),
        );
      }
    }),
  );
  const seconds = await until('workloads ready', t0, workloads, () => workloadsReady(ns));
  progress(`bare: ${workloads} Deployments, StatefulSets and Ingresses ready in ${seconds.toFixed(1)} s`);
  stopAdmitting();
  await deleteAndWait(ns);
  return { seconds, objects: objects.length };
}

/**
 * Deletes a namespace and waits until it is gone: the garbage collection of N apps' Deployments, ReplicaSets and
 * pods keeps the controller manager and the API server busy for minutes, and must not overlap the next phase
 * (in a 1,000-app run it did, and the operator's phase took 448 s against 279 s).
 */
async function deleteAndWait(ns: string): Promise<void> {
  deleteNamespace(ns);
  const t0 = performance.now();
  let lastPrint = Date.now();
  while (
    kubectl(['get', 'namespace', ns, '--ignore-not-found', '-o', 'name'], { allowFail: true }).stdout.trim()
  ) {
    if (Date.now() - lastPrint >= 30_000) {
      progress(`namespace ${ns} still terminating`);
      lastPrint = Date.now();
    }
    await sleep(2000);
  }
  progress(`namespace ${ns} gone in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

function run(cmd: string, args: string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')}: ${err}`))));
    p.stdin.end(input);
  });
}

function spawnSyncOut(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

mkdirSync(join(REPO_ROOT, '.local/bench'), { recursive: true });
kubectl(['apply', '--server-side', '--force-conflicts', '-f', join(REPO_ROOT, 'crds')]);
kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/scalableapps.scalable.dev']);
const bare = await bareRun();
const op = await operatorRun();
const perApp = (n: number) => Number((n / N).toFixed(2));
const { convergence } = op;
const dryRunSeconds = convergence.requests
  .filter((r) => r.kind.includes('(dry run)'))
  .reduce((n, r) => n + r.seconds, 0);
const result = {
  date: new Date().toISOString(),
  apps: N,
  minimalApps: MINIMAL,
  shopApps: SHOPS,
  operatorSeconds: Number(op.seconds.toFixed(1)),
  bareSeconds: Number(bare.seconds.toFixed(1)),
  ratio: Number((op.seconds / bare.seconds).toFixed(2)),
  requestsPerApp: perApp(op.requests),
  objectsPerApp: perApp(bare.objects),
  objects: bare.objects,
  // Until every app was Ready: `verb resource code` → count, per app, and the seconds spent waiting on them.
  requestsByKind: Object.fromEntries(
    convergence.requests.map((r) => [
      r.kind,
      { count: r.count, perApp: perApp(r.count), seconds: Number(r.seconds.toFixed(1)) },
    ]),
  ),
  reconcilesPerApp: perApp(convergence.reconciles),
  reconcileSeconds: Number(convergence.reconcileSeconds.toFixed(1)),
  // The dry runs' share of the time the reconciles took (workers run CONCURRENCY of them at a time).
  dryRunSeconds: Number(dryRunSeconds.toFixed(1)),
  dryRunShareOfReconcileTime: Number((dryRunSeconds / convergence.reconcileSeconds).toFixed(3)),
  operatorCpuSeconds: Number(op.cpuSeconds.toFixed(1)),
  nodeFlags: imageNodeFlags(),
  rssStartMiB: Math.round(op.rssStart),
  // The most seen (converging, resyncing, settling), the median of the settling's last minute, and the same
  // median after a restart with every app in place.
  rssPeakMiB: Math.round(op.rssPeak),
  rssSteadyMiB: Math.round(op.rssSteady),
  rssAfterRestartMiB: Math.round(op.rssAfterRestart),
  restartSyncSeconds: Number(op.restartSyncSeconds.toFixed(1)),
  // Every request the restarted process made, by kind: its first sync and RESTART_SETTLE_SECONDS.
  restartRequests: Object.fromEntries(op.restartRequests.map((r) => [r.kind, r.count])),
  rssPerAppKiB: Math.round(((op.rssSteady - op.rssStart) * 1024) / N),
  rssPerObjectKiB: Math.round(((op.rssSteady - op.rssStart) * 1024) / bare.objects),
  resyncSeconds: Number(op.resyncSeconds.toFixed(1)),
  resyncRequests: op.resyncRequests,
  editLatencyMs: Math.round(op.editMs),
};
// The latest run, and this size's own copy (the README's tables come from both sizes).
for (const file of ['scale.json', `scale-${MINIMAL}+${SHOPS}.json`]) {
  writeFileSync(join(REPO_ROOT, '.local/bench', file), `${JSON.stringify(result, null, 2)}\n`);
}
console.log(JSON.stringify(result, null, 2));
process.exit(0);
