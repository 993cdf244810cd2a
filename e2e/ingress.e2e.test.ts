// End to end on the local real node: the shop exposed through an Ingress of class `traefik` with
// sessionAffinity Cookie, reached the way a browser would, through Traefik on this machine's 127.0.0.1 (hack/node.sh
// runs it; SAPP_E2E_INGRESS_URL). Under a bounded load the HPA adds a web pod: every shopper keeps its pod across the
// scale-out (Traefik's sticky cookie, set by the annotations the operator puts on the web Service) and new shoppers
// (fresh cookie jars) reach the new pod; a shopper whose pod is deleted lands on another pod with its cart intact;
// no request fails.
//
// Knobs (environment): SAPP_E2E_INGRESS_SHOPPERS (first wave, default 8), SAPP_E2E_INGRESS_SHOPPERS2 (new clients
// once the new pod is Ready, default 8), SAPP_E2E_INGRESS_RPS (cap over all shoppers, default 200),
// SAPP_E2E_INGRESS_SECONDS (at most, default 240), SAPP_E2E_INGRESS_MAX_REQUESTS (at most, default 60000),
// SAPP_E2E_INGRESS_AFTER_SCALE_SECONDS (load kept on after the first new pod is Ready, default 20).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createNamespace } from '../test/harness/cluster.js';
import { applyObj, getObj, type Obj } from '../test/harness/apps.js';
import { eventually } from '../test/harness/wait.js';
import { Budget, PRODUCTS, Shopper, type Target } from './harness/load.js';
import { operatorMode, type RunningOperator, startOperatorFor } from './harness/operator.js';
import { Report, secs } from './harness/report.js';
import { browse, freshSessionsReach } from './harness/sessions.js';
import { scaleOutUnderLoad, waitForHpaMetrics } from './harness/scale-out.js';
import {
  APP,
  kubectlAsync,
  MIN_REPLICAS,
  pods,
  profile,
  ScaleWatcher,
  shopManifest,
  traefikOrigin,
  waitForShopReady,
  webEndpoints,
  webSelector,
} from './harness/shop.js';
import { dropNamespace, stopOperator } from './harness/teardown.js';

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SHOPPERS = num('SAPP_E2E_INGRESS_SHOPPERS', 8);
const SHOPPERS2 = num('SAPP_E2E_INGRESS_SHOPPERS2', 8);
const LOAD = {
  rps: num('SAPP_E2E_INGRESS_RPS', 200),
  seconds: num('SAPP_E2E_INGRESS_SECONDS', 240),
  maxRequests: num('SAPP_E2E_INGRESS_MAX_REQUESTS', 60_000),
  afterScaleSeconds: num('SAPP_E2E_INGRESS_AFTER_SCALE_SECONDS', 20),
};
const HOST = 'shop.example.test';
const COOKIE = 'SAPP_AFFINITY';

const { note } = new Report('ingress');
/** When a failure happened: seconds after the pod deletion was sent, once it was. */
let deletedAt: number | undefined;
const stamp = () => (deletedAt === undefined ? new Date().toISOString() : `+${secs(Date.now() - deletedAt)}`);

let ns: string;
let op: RunningOperator | undefined;
let manifest: Obj;
let target: Target;
const shoppers: Shopper[] = [];
const wave1: Shopper[] = [];
const wave2: Shopper[] = [];
let watcher: ScaleWatcher | undefined;
/** Failed requests: a status other than 200, or a network error. */
const failures: string[] = [];

/** `n` requests of one shopper (a page, the cart, sometimes an item added), its failed ones in `failures`. */
const shop = (s: Shopper, n: number) => browse(s, n, (what) => failures.push(`${stamp()} ${what}`));

/**
 * The EndpointSlice conditions of one pod, sampled every 500 ms until stopped: "+0.4 s serving terminating,
 * +9.1 s gone". Traefik keeps routing sticky sessions to an endpoint that is terminating but still serving.
 */
function trackEndpoint(pod: string): { stop: () => Promise<string> } {
  const changes: string[] = [];
  let last = '';
  let running = true;
  const loop = (async () => {
    while (running) {
      const endpoints = await webEndpoints(ns).catch(() => undefined);
      if (endpoints !== undefined && deletedAt !== undefined) {
        const e = endpoints.find((x) => x.targetRef?.name === pod);
        const state = e
          ? Object.entries(e.conditions ?? {})
              .filter(([, v]) => v)
              .map(([k]) => k)
              .join(' ') || 'not serving'
          : 'gone';
        if (state !== last) changes.push(`+${secs(Date.now() - deletedAt)} ${state}`);
        last = state;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return changes.join(', ');
    },
  };
}

// Traefik runs on the local real node (hack/node.sh); kind's ingress is ingress-nginx.
const onLocalNode = profile() === 'local' ? describe : describe.skip;

onLocalNode('the shop through a Traefik Ingress with cookie affinity', () => {
  beforeAll(async () => {
    const origin = traefikOrigin();
    target = { origin, host: HOST };
    ns = createNamespace('e2e-ing');
    manifest = shopManifest(ns).obj;
    manifest.spec!.exposure = {
      type: 'Ingress',
      sessionAffinity: 'Cookie',
      ingressClassName: 'traefik',
      host: HOST,
    };
    op = await startOperatorFor(ns);
    note(`namespace ${ns}, operator ${operatorMode()}, target ${origin} (Host: ${HOST})`);
  }, 600_000);

  afterAll(async () => {
    watcher?.stop();
    await Promise.allSettled(shoppers.map((s) => s.close()));
    await stopOperator(op);
    dropNamespace(ns);
  }, 300_000);

  it(
    'goes from apply to Ready with an Ingress of class traefik',
    async () => {
      const t0 = Date.now();
      applyObj(manifest);
      await waitForShopReady(ns, 20 * 60_000);
      note(`apply → Ready: ${secs(Date.now() - t0)}`);
      const ingress = getObj('ingress', ns, `${APP}-web`);
      expect((ingress?.spec as { ingressClassName?: string } | undefined)?.ingressClassName).toBe('traefik');
      // Ready includes ExposureReady: Traefik admitted the Ingress (its ingressEndpoint address is in the status).
      expect(ingress?.status).toMatchObject({ loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } });
      expect(pods(ns, webSelector).filter((p) => p.ready).length).toBeGreaterThanOrEqual(MIN_REPLICAS);
    },
    21 * 60_000,
  );

  it(
    'keeps every shopper on one pod while the HPA scales out; new shoppers reach the new pod; no failed request',
    async () => {
      const probe = new Shopper(100, 100, target);
      shoppers.push(probe);
      // Traefik reads the new Ingress and its endpoints within seconds of Ready.
      await eventually(
        'the catalog answers through Traefik',
        async () => (await probe.request('GET', '/')).status === 200,
        { timeoutMs: 60_000, intervalMs: 1000 },
      );
      // Ready needs two ready web pods, not Traefik having both: new sessions (no cookie) must reach both first.
      // (The first run started the shoppers at once and Traefik sent all 8 to one pod.)
      await freshSessionsReach(target, 'two pods through Traefik', (seen) => seen.size >= 2);
      for (let i = 0; i < SHOPPERS; i++) wave1.push(new Shopper(i, 2001 + i, target));
      for (let i = 0; i < SHOPPERS2; i++) wave2.push(new Shopper(SHOPPERS + i, 2001 + SHOPPERS + i, target));
      shoppers.push(...wave1, ...wave2);
      // Every first-wave shopper has its session, cookie and pod before the load.
      for (const s of wave1) expect((await s.addToCart(1 + (s.id % PRODUCTS))).status).toBe(200);
      const podsBefore = new Set(pods(ns, webSelector).map((p) => p.name));
      watcher = new ScaleWatcher(ns);
      const waited = await waitForHpaMetrics(watcher);
      note(`HPA measuring CPU (waited ${secs(waited)} for metrics-server before the load)`);

      const r = await scaleOutUnderLoad({
        namespace: ns,
        watcher,
        budget: new Budget(LOAD.maxRequests, LOAD.seconds, LOAD.rps),
        wave1,
        wave2,
        afterScaleSeconds: LOAD.afterScaleSeconds,
        // Traefik reads the EndpointSlice on its own schedule: fresh sessions must reach a new pod first, then the
        // second wave starts its sessions (Traefik deals new sessions round robin over every pod).
        newPodReachable: async () => {
          await freshSessionsReach(target, 'a new pod through Traefik', (seen) =>
            [...seen].some((p) => !podsBefore.has(p)),
          );
          for (const s of wave2) await s.addToCart(1 + (s.id % PRODUCTS));
        },
      });
      const { load } = r;
      const active = [...wave1, ...(r.wave2Ran ? wave2 : [])];
      const newPods = Object.keys(load.pods).filter((p) => !podsBefore.has(p));
      const onNewPods = wave2.filter((s) => s.pod !== undefined && !podsBefore.has(s.pod));
      const switches = active.reduce((n, s) => n + s.switches, 0);
      const at = (s: { t: number } | undefined) => (s ? `+${secs(s.t - r.loadStart)}` : 'never');
      note(
        `load: ${wave1.length} + ${r.wave2Ran ? wave2.length : 0} shoppers through Traefik, cap ${LOAD.rps} req/s: ` +
          `${load.requests} requests in ${load.seconds.toFixed(1)} s = ${load.rps.toFixed(0)} req/s, ` +
          `p50 ${load.p50.toFixed(1)} ms, p95 ${load.p95.toFixed(1)} ms, p99 ${load.p99.toFixed(1)} ms, ${load.failures.length} failed`,
      );
      note(
        `scale-out: HPA wanted ${r.decided?.desired ?? '-'} pods at ${at(r.decided)} (CPU ${r.decided?.cpu ?? '?'} %), ` +
          `first new pod Ready at ${at(r.ready)}, max ${r.maxReady} ready pods; ${newPods.length} new pod(s) served ` +
          `${newPods.reduce((n, p) => n + load.pods[p]!, 0)} requests; ${onNewPods.length} of ${wave2.length} ` +
          `new shoppers on a new pod; ${switches} switches, ${active.reduce((n, s) => n + s.lostCarts, 0)} lost carts`,
      );
      for (const f of load.failures.slice(0, 10))
        note(`  failed: ${new Date(f.t).toISOString()} ${f.route} ${f.status} ${f.error}`);

      expect(load.failures).toEqual([]);
      expect(r.decided).toBeDefined();
      expect(r.ready).toBeDefined();
      expect(r.wave2Ran).toBe(true);
      // Stickiness is tested only if the first wave was spread over both pods before the scale-out.
      expect(new Set(wave1.map((s) => s.podHistory[0]?.pod)).size).toBeGreaterThanOrEqual(2);
      for (const s of active) expect(s.cookies.has(COOKIE)).toBe(true);
      // Pods were only added: nobody may have been moved to another pod.
      expect(
        active
          .filter((s) => s.switches > 0)
          .map((s) => ({ shopper: s.id, pods: s.podHistory.map((p) => p.pod) })),
      ).toEqual([]);
      // New sessions reach the new pod.
      expect(onNewPods.length).toBeGreaterThan(0);
      expect(active.reduce((n, s) => n + s.lostCarts, 0)).toBe(0);
      for (const s of active) expect((await s.checkCart()).intact).toBe(true);
    },
    15 * 60_000,
  );

  it('moves a shopper whose pod is deleted to another pod, cart intact, no failed request', async () => {
    const active = [...wave1, ...wave2].filter((s) => s.pod !== undefined);
    const victim = active[0]!;
    const gone = victim.pod!;
    const others = active.filter((s) => s.pod !== gone);
    const before = new Map(others.map((s) => [s, s.pod]));
    const failedBefore = failures.length;
    // Everyone keeps shopping while the pod is deleted (graceful: it leaves the endpoints, then stops).
    const deletion = (async () => {
      await new Promise((r) => setTimeout(r, 2000));
      // Not the synchronous kubectl: the shoppers share the event loop.
      deletedAt = Date.now();
      await kubectlAsync(['-n', ns, 'delete', 'pod', gone, '--wait=true']);
    })();
    const endpoint = trackEndpoint(gone);
    const t0 = Date.now();
    await Promise.all([deletion, ...active.map((s) => shop(s, 150))]);
    const seen = await endpoint.stop();
    await shop(victim, 30);
    const { reply, intact } = await victim.checkCart();
    // The HPA may also scale in meanwhile (30 s window after the scale-out's load): only a shopper whose pod still
    // serves must stay on it.
    const serving = new Set(
      pods(ns, webSelector)
        .filter((p) => p.ready)
        .map((p) => p.name),
    );
    const moved = others.filter((s) => s.pod !== before.get(s));
    const scaledIn = moved.filter((s) => !serving.has(before.get(s)!));
    note(
      `pod ${gone} deleted under ${active.length} shoppers (${secs(Date.now() - t0)}): ` +
        `shopper ${victim.id} went ${victim.podHistory.map((p) => p.pod).join(' → ')}, cart ${intact ? 'intact' : 'LOST'} ` +
        `(${[...victim.cart.values()].reduce((a, b) => a + b, 0)} items); ` +
        `${moved.length} of ${others.length} shoppers on other pods moved (${scaledIn.length} because the HPA removed their pod); ` +
        `${failures.length - failedBefore} failed; its endpoint after the delete: ${seen}`,
    );
    expect(reply.status).toBe(200);
    expect(intact).toBe(true);
    expect(victim.pod).not.toBe(gone);
    expect(victim.lostCarts).toBe(0);
    expect(failures).toEqual([]);
    expect(moved.filter((s) => !scaledIn.includes(s)).map((s) => s.id)).toEqual([]);
  }, 600_000);
});
