// End to end, on a cluster with real networking (kind, or the local real node of hack/node.sh): the operator
// takes the example shop to Ready; under a bounded load the HPA scales the web tier out and back in, no request
// fails, sessions and sticky routing hold; a database replica killed (kill -9 of its server) under load costs no
// request and comes back by itself; orders land on the shard primaries and reach the replicas; deleting
// the app with deletionPolicy Retain keeps its volumes and credentials, and re-creating it brings the data back.
// Prints what it measured (and writes it as JSON to SAPP_E2E_REPORT when set).
//
// Load knobs (environment): SAPP_E2E_LOAD_USERS (first wave, default 8), SAPP_E2E_LOAD_USERS2 (second wave,
// after the scale-out; default 16), SAPP_E2E_LOAD_RPS (cap over all shoppers, default 250),
// SAPP_E2E_LOAD_SECONDS (at most, default 240), SAPP_E2E_LOAD_MAX_REQUESTS (at most, default 100000),
// SAPP_E2E_AFTER_SCALE_SECONDS (load kept on after the first new pod is Ready, default 30).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { shardForKey } from '../src/api/sharding.js';
import { createNamespace, kubectl } from '../test/harness/cluster.js';
import { applyObj, condition, getObj, type Obj } from '../test/harness/apps.js';
import { eventually, sleep } from '../test/harness/wait.js';
import {
  Budget,
  type LoadResult,
  mergeResults,
  PRODUCTS,
  runLoad,
  Shopper,
  type Target,
} from './harness/load.js';
import { operatorMode, type RunningOperator, startOperatorFor } from './harness/operator.js';
import { Report, secs } from './harness/report.js';
import {
  APP,
  MIN_REPLICAS,
  containerState,
  databasePod,
  killInContainer,
  pods,
  profile,
  resolveTarget,
  readyWebEndpoints,
  ScaleWatcher,
  shopManifest,
  sourceAddresses,
  sql,
  webSelector,
} from './harness/shop.js';
import { dropNamespace, keeping, stopOperator } from './harness/teardown.js';

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const LOAD = {
  users: num('SAPP_E2E_LOAD_USERS', 8),
  users2: num('SAPP_E2E_LOAD_USERS2', 16),
  rps: num('SAPP_E2E_LOAD_RPS', profile() === 'kind' ? 400 : 250),
  seconds: num('SAPP_E2E_LOAD_SECONDS', 240),
  maxRequests: num('SAPP_E2E_LOAD_MAX_REQUESTS', 100_000),
  afterScaleSeconds: num('SAPP_E2E_AFTER_SCALE_SECONDS', 30),
};

/** What the spec measured: written with the report's lines to SAPP_E2E_REPORT. */
const measured: Record<string, unknown> = { profile: profile(), operator: operatorMode(), load: LOAD };
const report = new Report(undefined);
const { note } = report;

let ns: string;
let op: RunningOperator | undefined;
let manifest: Obj;
let target: Target;
let shardCount: number;
let databaseName: string;
const shoppers: Shopper[] = [];
const wave2: Shopper[] = [];
let watcher: ScaleWatcher;
let load: LoadResult | undefined;
const placed: { id: number; customer: number; shard: number; totalCents: number }[] = [];
const reviewBody = `e2e review ${Date.now()}`;

const app = () => getObj('sapp', ns, APP);

/** Waits for Ready=True; returns ms since `t0` and when each component condition first turned True. */
async function waitReady(
  t0: number,
  timeoutMs: number,
): Promise<{ ms: number; components: Record<string, number> }> {
  const components: Record<string, number> = {};
  await eventually(
    'ScalableApp Ready=True',
    () => {
      const a = app();
      for (const type of ['WebReady', 'CacheReady', 'DatabaseReady', 'ExposureReady', 'WorkersReady'])
        if (components[type] === undefined && condition(a, type)?.status === 'True')
          components[type] = Date.now() - t0;
      return condition(a, 'Ready')?.status === 'True';
    },
    { timeoutMs, intervalMs: 2000 },
  );
  return { ms: Date.now() - t0, components };
}

/** The worker's "warm pass" log lines (pino JSON), from every worker pod. */
function warmPasses(): { time: number; ms: number; stored: number; present: number; failed: number }[] {
  const out = kubectl(['-n', ns, 'logs', '-l', 'app.kubernetes.io/component=workers', '--tail=200'], {
    allowFail: true,
  }).stdout;
  return out
    .split('\n')
    .filter((l) => l.includes('"warm pass"'))
    .map(
      (l) => JSON.parse(l) as { time: number; ms: number; stored: number; present: number; failed: number },
    );
}

function newShopper(i: number, customer: number): Shopper {
  const ips = sourceAddresses();
  return new Shopper(i, customer, target, ips.length ? ips[i % ips.length] : undefined);
}

beforeAll(async () => {
  ns = createNamespace('e2e');
  const m = shopManifest(ns);
  manifest = m.obj;
  const db = manifest.spec!.database as { shards: { count: number }; databaseName: string };
  shardCount = db.shards.count;
  if (shardCount < 2) throw new Error('the e2e shop must be sharded (spec.database.shards.count >= 2)');
  databaseName = db.databaseName;
  note(`profile ${profile()}, namespace ${ns}`);
  for (const n of m.notes) note(`spec: ${n}`);
  op = await startOperatorFor(ns);
  note(`operator: ${op.describe}`);
}, 600_000);

afterAll(async () => {
  watcher?.stop();
  await Promise.allSettled([...shoppers, ...wave2].map((s) => s.close()));
  if (op && !keeping()) {
    const logs = op.logs();
    if (logs) measured.operatorLogTail = logs.split('\n').slice(-40);
  }
  await stopOperator(op, (err) => note(`operator stop: ${String(err)}`));
  report.writeJson(process.env.SAPP_E2E_REPORT, measured);
  report.print();
  dropNamespace(ns);
}, 300_000);

describe(`the shop on a cluster with real networking`, () => {
  it(
    'goes from apply to Ready',
    async () => {
      const t0 = Date.now();
      applyObj(manifest);
      const r = await waitReady(t0, 20 * 60_000);
      measured.applyToReadyMs = r.ms;
      measured.componentsReadyMs = r.components;
      note(
        `apply → Ready: ${secs(r.ms)} (${Object.entries(r.components)
          .map(([k, v]) => `${k} ${secs(v)}`)
          .join(', ')})`,
      );
      const web = pods(ns, webSelector).filter((p) => p.ready);
      expect(web.length).toBeGreaterThanOrEqual(MIN_REPLICAS);
    },
    21 * 60_000,
  );

  it('serves the catalog through its Service, and keeps one client on one pod', async () => {
    target = resolveTarget(ns, manifest);
    note(`target: ${target.origin}${target.host ? ` (Host: ${target.host})` : ''}`);
    const probe = newShopper(0, 1);
    shoppers.push(probe);
    // The Service's endpoints follow readiness; give kube-proxy / the ingress a moment after Ready.
    await eventually('the catalog answers', async () => (await probe.request('GET', '/')).status === 200, {
      timeoutMs: 60_000,
      intervalMs: 1000,
    });
    const catalog = await probe.request('GET', '/');
    expect((catalog.body as { products: unknown[] }).products).toHaveLength(PRODUCTS);
    // Orders must not run out of stock: give every product plenty (a write to the main primary).
    for (let id = 1; id <= PRODUCTS; id++) {
      const r = await probe.request('PUT', `/products/${id}/inventory`, { stock: 1_000_000 });
      expect(r.status).toBe(200);
    }
    await probe.addToCart(3);
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add((await probe.request('GET', '/whoami')).pod ?? '?');
    note(`one client, 20 × /whoami: served by ${[...seen].join(', ')}`);
    expect(seen.size).toBe(1);
  }, 120_000);

  it('runs the worker, which assembles every product page into Redis before any shopper asks', async () => {
    // The previous step's inventory writes invalidated every page. A warm pass that started after them (and
    // after the app's second delete, 1 s later) leaves every page in Redis.
    const since = Date.now() + 1500;
    const pass = await eventually(
      'a warm pass started after the writes',
      () =>
        warmPasses().find(
          (p) => p.time - p.ms > since && p.failed === 0 && p.stored + p.present === PRODUCTS,
        ),
      { timeoutMs: 90_000, intervalMs: 2000 },
    );
    note(
      `worker: pages stored per pass: ${warmPasses()
        .map((p) => p.stored)
        .join(
          ', ',
        )}; the pass checked started after the writes and found all ${pass.stored + pass.present} in Redis (${pass.ms} ms)`,
    );
    const probe = newShopper(1, 2);
    shoppers.push(probe);
    const misses: number[] = [];
    for (let id = 1; id <= PRODUCTS; id++) {
      const r = await probe.request('GET', `/products/${id}`);
      expect(r.status).toBe(200);
      if (r.cache !== 'hit') misses.push(id);
    }
    expect(misses).toEqual([]);
  }, 120_000);

  it(
    'scales the web tier out under load with no failed request; sessions and stickiness hold',
    async () => {
      // Customers alternate between the shards, so the orders later cover all of them.
      const customers: number[] = [];
      for (let c = 1001; customers.length < LOAD.users + LOAD.users2; c++) {
        const wanted = customers.length % shardCount;
        if (shardForKey(c, shardCount) === wanted) customers.push(c);
      }
      for (let i = 0; i < LOAD.users; i++) shoppers.push(newShopper(shoppers.length, customers[i]!));
      for (let i = 0; i < LOAD.users2; i++)
        wave2.push(newShopper(shoppers.length + i, customers[LOAD.users + i]!));
      const wave1 = shoppers.slice(1);
      // Every shopper starts a session before the load: its pod is known, its cart holds one item.
      for (const s of wave1) expect((await s.addToCart(1 + (s.id % PRODUCTS))).status).toBe(200);
      const webBefore = pods(ns, webSelector);
      const podsBefore = new Set(webBefore.map((p) => p.name));

      watcher = new ScaleWatcher(ns);
      // The HPA needs two metrics-server scrapes of the new pods first; the clock starts when it measures CPU.
      const metricsSince = Date.now();
      await eventually('the HPA measuring CPU', async () => (await watcher.sample()).cpu !== undefined, {
        timeoutMs: 180_000,
        intervalMs: 2000,
      });
      note(
        `HPA measuring CPU (waited ${secs(Date.now() - metricsSince)} for metrics-server before starting the load)`,
      );
      watcher.start();
      const budget = new Budget(LOAD.maxRequests, LOAD.seconds, LOAD.rps);
      const loadStart = Date.now();
      let readyAt: number | undefined;
      const stop = () => {
        const ready = watcher.firstReadyScaleOut(loadStart);
        if (ready) readyAt ??= ready.t;
        return readyAt !== undefined && Date.now() - readyAt >= LOAD.afterScaleSeconds * 1000;
      };
      const first = runLoad({ shoppers: wave1, budget, stop });
      // The second wave: new clients once new pods serve; the load balancer must spread them over all pods.
      const second = (async (): Promise<LoadResult | undefined> => {
        while (!budget.exhausted && !stop() && !watcher.firstReadyScaleOut(loadStart)) await sleep(500);
        // Only once the Service routes to the new pod (EndpointSlice, then kube-proxy's or the ingress's next sync):
        // a client that arrives earlier is pinned to an old pod for good.
        while (!budget.exhausted && !stop() && (await readyWebEndpoints(ns)).length <= MIN_REPLICAS)
          await sleep(500);
        await sleep(3000);
        if (budget.exhausted || stop()) return undefined;
        for (const s of wave2) await s.addToCart(1 + (s.id % PRODUCTS));
        return runLoad({ shoppers: wave2, budget, stop });
      })();
      const [r1, r2] = await Promise.all([first, second]);
      watcher.stop();
      load = r2 ? mergeResults(r1, r2) : r1;

      const out = watcher.firstScaleOut(loadStart);
      const outReady = watcher.firstReadyScaleOut(loadStart);
      const maxPods = watcher.maxReady(loadStart);
      const newPods = Object.keys(load.pods).filter((p) => !podsBefore.has(p));
      const newPodRequests = newPods.reduce((n, p) => n + load!.pods[p]!, 0);
      const users = wave1.length + (r2 ? wave2.length : 0);
      measured.loadResult = {
        users,
        requests: load.requests,
        seconds: load.seconds,
        rps: load.rps,
        p50: load.p50,
        p95: load.p95,
        p99: load.p99,
        failures: load.failures.length,
        routes: load.routes,
        pods: load.pods,
        firstScaleOutMs: out ? out.t - loadStart : null,
        firstScaleOutReadyMs: outReady ? outReady.t - loadStart : null,
        maxPods,
        scaleSamples: watcher.samples,
        webPodsBefore: webBefore,
        webPodsAfter: pods(ns, webSelector),
        shoppers: [...wave1, ...wave2].map((s) => ({
          id: s.id,
          address: s.localAddress,
          requests: s.requests,
          pods: s.podHistory,
        })),
      };
      note(
        `load: ${users} shoppers (${wave1.length} + ${r2 ? wave2.length : 0} after the scale-out), ` +
          `${sourceAddresses().length || 'one'} source address(es), cap ${LOAD.rps} req/s: ${load.requests} requests in ` +
          `${load.seconds.toFixed(1)} s = ${load.rps.toFixed(0)} req/s, p50 ${load.p50.toFixed(1)} ms, ` +
          `p95 ${load.p95.toFixed(1)} ms, p99 ${load.p99.toFixed(1)} ms, ${load.failures.length} failed`,
      );
      note(
        `scale-out: HPA wanted ${out ? `${out.desired} pods at +${secs(out.t - loadStart)} (CPU ${out.cpu ?? '?'} %)` : 'no more pods'}; ` +
          `first new pod Ready at ${outReady ? `+${secs(outReady.t - loadStart)}` : 'never'}; max ${maxPods} ready pods; ` +
          `${newPodRequests} requests served by ${newPods.length} new pod(s)`,
      );
      for (const f of load.failures.slice(0, 10))
        note(`  failed: ${new Date(f.t).toISOString()} ${f.route} ${f.status} ${f.error}`);

      expect(load.failures).toEqual([]);
      expect(out).toBeDefined();
      expect(outReady).toBeDefined();
      expect(newPodRequests).toBeGreaterThan(0);
      // Pods were only added: nobody may have been moved to another pod.
      const moved = [...wave1, ...(r2 ? wave2 : [])].filter((s) => s.switches > 0);
      note(`stickiness under scale-out: ${moved.length} of ${users} shoppers switched pods`);
      expect(moved.map((s) => ({ shopper: s.id, pods: s.podHistory.map((p) => p.pod) }))).toEqual([]);
      // Sessions: every cart answer during the load matched, and every cart is intact now.
      expect(shoppers.concat(wave2).reduce((n, s) => n + s.lostCarts, 0)).toBe(0);
      for (const s of [...wave1, ...(r2 ? wave2 : [])]) expect((await s.checkCart()).intact).toBe(true);
    },
    15 * 60_000,
  );

  it(
    'scales back in after the load, and the sessions survive it',
    async () => {
      const loadEnd = load?.endedAt ?? Date.now();
      const podsBefore = new Set(pods(ns, webSelector).map((p) => p.name));
      watcher.start();
      await eventually(
        `the web tier back at ${MIN_REPLICAS} pods`,
        () => {
          const s = watcher.last();
          return (
            s &&
            s.t > loadEnd &&
            s.desired === MIN_REPLICAS &&
            s.current === MIN_REPLICAS &&
            s.ready === MIN_REPLICAS
          );
        },
        { timeoutMs: 10 * 60_000, intervalMs: 2000 },
      );
      watcher.stop();
      await eventually('terminated web pods gone', () => pods(ns, webSelector).length === MIN_REPLICAS, {
        timeoutMs: 120_000,
        intervalMs: 1000,
      });
      const scaleInMs = Date.now() - loadEnd;
      measured.scaleInMs = scaleInMs;
      const active = [...shoppers.slice(1), ...wave2].filter((s) => s.requests > 0);
      const before = new Map(active.map((s) => [s, s.pod]));
      for (const s of active) {
        const { reply, intact } = await s.checkCart();
        expect(reply.status).toBe(200);
        expect(intact).toBe(true);
      }
      const moved = active.filter((s) => s.pod !== before.get(s));
      note(
        `scale-in: back at ${MIN_REPLICAS} pods ${secs(scaleInMs)} after the load stopped (of ${podsBefore.size}); ` +
          `${moved.length} of ${active.length} shoppers were moved to another pod, every cart intact`,
      );
    },
    12 * 60_000,
  );

  it(
    'keeps serving when a database replica is killed under load: no failed request, the replica comes back',
    async () => {
      const victim = databasePod(ns, 'main', 'replica');
      const state = () => containerState(ns, victim, 'mariadb');
      const restartsBefore = (await state()).restarts;
      const active = [...shoppers.slice(1), ...wave2].filter((s) => s.requests > 0);
      const budget = new Budget(LOAD.maxRequests, 180, Math.min(LOAD.rps, 100));
      // The load runs before the kill, through the outage and on for 10 s after the replica is Ready again.
      const replica: { backAt?: number } = {};
      const stop = () => replica.backAt !== undefined && Date.now() - replica.backAt >= 10_000;
      const running = runLoad({ shoppers: active, budget, stop });
      await sleep(5_000);
      // kill -9 of the server itself (not of the pod): the container restarts in place.
      const pid = killInContainer(ns, victim, 'mariadb', 'mariadbd');
      const killedAt = Date.now();
      let restartsAfter = restartsBefore;
      await eventually(
        `${victim} restarted and Ready`,
        async () => {
          const now = await state();
          restartsAfter = now.restarts;
          return now.restarts > restartsBefore && now.ready;
        },
        { timeoutMs: 170_000, intervalMs: 1000 },
      );
      const backAt = (replica.backAt = Date.now());
      const result = await running;
      measured.replicaKill = {
        victim,
        backAfterMs: backAt - killedAt,
        requests: result.requests,
        failures: result.failures.length,
        routes: result.routes,
        p95: result.p95,
        p99: result.p99,
      };
      note(
        `replica kill: kill -9 of mariadbd (pid ${pid}) in ${victim} under ${result.requests} requests (${active.length} shoppers, ` +
          `${result.rps.toFixed(0)} req/s, ${result.routes.catalog ?? 0} catalog reads); Ready again after ` +
          `${secs(backAt - killedAt)} (restarts ${restartsBefore} → ${restartsAfter}); ${result.failures.length} failed, ` +
          `p99 ${result.p99.toFixed(1)} ms`,
      );
      for (const f of result.failures.slice(0, 10))
        note(`  failed: ${new Date(f.t).toISOString()} ${f.route} ${f.status} ${f.error}`);
      expect(result.startedAt).toBeLessThan(killedAt);
      expect(result.endedAt).toBeGreaterThan(backAt);
      expect(result.failures).toEqual([]);
      expect(active.reduce((n, s) => n + s.lostCarts, 0)).toBe(0);
    },
    5 * 60_000,
  );

  it('writes orders to the shard primaries, and the replicas serve them', async () => {
    const orderers = [...shoppers.slice(1), ...wave2].filter((s) => s.cart.size > 0);
    for (const s of orderers) {
      const r = await s.request('POST', '/orders', {});
      expect(r.status).toBe(201);
      const order = r.body as {
        id: number;
        customer: number;
        shard: number;
        totalCents: number;
        items: unknown[];
      };
      expect(order.customer).toBe(s.customer);
      // The app follows the operator's published shard map.
      expect(order.shard).toBe(shardForKey(s.customer, shardCount));
      placed.push({
        id: order.id,
        customer: order.customer,
        shard: order.shard,
        totalCents: order.totalCents,
      });
      s.cart.clear();
    }
    const shards = [...new Set(placed.map((o) => o.shard))].sort();
    expect(shards).toEqual(Array.from({ length: shardCount }, (_, i) => i));
    for (let shard = 0; shard < shardCount; shard++) {
      const mine = placed.filter((o) => o.shard === shard);
      const others = placed.filter((o) => o.shard !== shard);
      const rows = (pod: string, list: typeof placed) =>
        sql(
          ns,
          pod,
          `SELECT id, customer_id, total_cents FROM \`${databaseName}\`.orders WHERE (id, customer_id) IN (${list
            .map((o) => `(${o.id},${o.customer})`)
            .join(',')}) ORDER BY id`,
        );
      const primary = databasePod(ns, shard, 'primary');
      const expected = mine
        .sort((a, b) => a.id - b.id)
        .map((o) => [String(o.id), String(o.customer), String(o.totalCents)]);
      expect(await rows(primary, mine)).toEqual(expected);
      if (others.length) expect(await rows(primary, others)).toEqual([]);
      const replica = databasePod(ns, shard, 'replica');
      await eventually(
        `shard ${shard}'s orders on its replica ${replica}`,
        async () => JSON.stringify(await rows(replica, mine)) === JSON.stringify(expected),
      );
      note(`shard ${shard}: ${mine.length} orders on ${primary}, replicated to ${replica}`);
    }
    // And the app reads them back from the replicas.
    const reader = shoppers[0]!;
    for (const o of placed) {
      await eventually(
        `order ${o.id} readable`,
        async () => (await reader.request('GET', `/orders/${o.id}?customer=${o.customer}`)).status === 200,
      );
    }
    // A catalog write: on the main primary, then on every main replica.
    const review = await reader.request('POST', '/products/5/reviews', {
      author: 'e2e',
      rating: 5,
      body: reviewBody,
    });
    expect(review.status).toBe(201);
    const count = `SELECT COUNT(*) FROM \`${databaseName}\`.reviews WHERE body = '${reviewBody}'`;
    expect(await sql(ns, databasePod(ns, 'main', 'primary'), count)).toEqual([['1']]);
    const mainReplicas = pods(
      ns,
      `app.kubernetes.io/instance=${APP},scalable.dev/shard=main,scalable.dev/role=replica`,
    );
    for (const p of mainReplicas)
      await eventually(
        `the review on ${p.name}`,
        async () => JSON.stringify(await sql(ns, p.name, count)) === '[["1"]]',
      );
    note(`main group: a review written to the primary, read on ${mainReplicas.length} replica(s)`);
  }, 300_000);

  let pvcsBefore: Map<string, string>;
  let credentials: Obj | undefined;

  it('deletes the app with deletionPolicy Retain: PVCs and the credentials Secret stay', async () => {
    pvcsBefore = pvcs();
    credentials = getObj('secret', ns, `${APP}-credentials`);
    expect(credentials).toBeDefined();
    expect(pvcsBefore.size).toBeGreaterThan(0);
    const t0 = Date.now();
    kubectl(['-n', ns, 'delete', 'sapp', APP, '--wait=true', '--timeout=300s']);
    await eventually(
      'the app’s workloads and pods gone',
      () =>
        kubectl([
          '-n',
          ns,
          'get',
          'statefulsets,deployments,pods',
          '-l',
          `app.kubernetes.io/instance=${APP}`,
          '-o',
          'name',
        ]).stdout.trim() === '',
      { timeoutMs: 300_000, intervalMs: 2000 },
    );
    const after = pvcs();
    expect(after).toEqual(pvcsBefore);
    const phases = kubectl(['-n', ns, 'get', 'pvc', '-o', 'jsonpath={.items[*].status.phase}']).stdout.split(
      ' ',
    );
    expect(new Set(phases)).toEqual(new Set(['Bound']));
    const secretNow = getObj('secret', ns, `${APP}-credentials`);
    expect(secretNow?.metadata.uid).toBe(credentials!.metadata.uid);
    expect(secretNow?.data).toEqual(credentials!.data);
    note(
      `delete (Retain): workloads gone in ${secs(Date.now() - t0)}; ${after.size} PVCs and ${APP}-credentials kept`,
    );
  }, 400_000);

  it(
    're-creating the app brings the data back',
    async () => {
      const t0 = Date.now();
      applyObj(manifest);
      const r = await waitReady(t0, 20 * 60_000);
      measured.recreateToReadyMs = r.ms;
      // The same claims, not new ones: the StatefulSets adopted the retained PVCs.
      expect(pvcs()).toEqual(pvcsBefore);
      expect(getObj('secret', ns, `${APP}-credentials`)?.metadata.uid).toBe(credentials!.metadata.uid);
      target = resolveTarget(ns, manifest);
      const reader = newShopper(0, 1);
      shoppers.push(reader);
      await eventually('the catalog answers', async () => (await reader.request('GET', '/')).status === 200, {
        timeoutMs: 120_000,
        intervalMs: 1000,
      });
      for (const o of placed) {
        await eventually(`order ${o.id} back`, async () => {
          const res = await reader.request('GET', `/orders/${o.id}?customer=${o.customer}`);
          return res.status === 200 && (res.body as { totalCents: number }).totalCents === o.totalCents;
        });
      }
      const page = await reader.request('GET', '/products/5');
      expect(JSON.stringify(page.body)).toContain(reviewBody);
      expect((page.body as { stock: number }).stock).toBeGreaterThan(100_000);
      // Sessions live in Redis; whether they come back depends on the cache's volume: reported, not required.
      const s = shoppers[1]!.moveTo(target);
      shoppers.push(s);
      const cart = await s.request('GET', '/cart');
      const kept = cart.status === 200 && (cart.body as { customer?: unknown }).customer === s.customer;
      note(
        `re-create: Ready in ${secs(r.ms)} on the retained volumes; ${placed.length} orders, the review and the ` +
          `stock are back; sessions from before: ${kept ? 'kept (Redis data retained)' : 'gone (Redis started empty)'}`,
      );
    },
    21 * 60_000,
  );
});

function pvcs(): Map<string, string> {
  const out = kubectl(['-n', ns, 'get', 'pvc', '-o', 'json']).stdout;
  return new Map(
    (JSON.parse(out) as { items: { metadata: { name: string; uid: string } }[] }).items.map((p) => [
      p.metadata.name,
      p.metadata.uid,
    ]),
  );
}
