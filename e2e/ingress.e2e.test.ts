// End to end on the local real node: the shop exposed through an Ingress of class `traefik` with
// sessionAffinity Cookie, reached the way a browser would, through Traefik on this machine's 127.0.0.1 (hack/node.sh
// runs it; SAPP_E2E_INGRESS_URL). Each shopper keeps one web pod for hundreds of requests while two or more pods
// serve (Traefik's sticky cookie, set by the annotations the operator puts on the web Service); a shopper whose pod
// is deleted lands on another pod with its cart intact; no request fails.
//
// Knobs (environment): SAPP_E2E_INGRESS_SHOPPERS (default 8), SAPP_E2E_INGRESS_REQUESTS (per shopper, default 250).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createNamespace, deleteNamespace } from '../test/harness/cluster.js';
import { applyObj, condition, getObj, type Obj } from '../test/harness/apps.js';
import { eventually } from '../test/harness/wait.js';
import { PRODUCTS, Shopper, type Target } from './harness/load.js';
import { operatorMode, type RunningOperator, startOperatorFor } from './harness/operator.js';
import { APP, kubectlAsync, MIN_REPLICAS, pods, profile, shopManifest, webSelector } from './harness/shop.js';

const SHOPPERS = Number(process.env.SAPP_E2E_INGRESS_SHOPPERS ?? 8);
const REQUESTS = Number(process.env.SAPP_E2E_INGRESS_REQUESTS ?? 250);
const HOST = 'shop.example.test';
const COOKIE = 'SAPP_AFFINITY';

const note = (line: string) => console.log(`[e2e ingress] ${line}`);

let ns: string;
let op: RunningOperator | undefined;
let manifest: Obj;
let target: Target;
const shoppers: Shopper[] = [];
/** Failed requests: a status other than 200, or a network error. */
const failures: string[] = [];

async function ok(s: Shopper, what: Promise<{ status: number }>, label: string): Promise<void> {
  try {
    const r = await what;
    if (r.status !== 200) failures.push(`shopper ${s.id} ${label}: HTTP ${r.status}`);
  } catch (err) {
    failures.push(`shopper ${s.id} ${label}: ${String(err)}`);
  }
}

/** `n` requests of one shopper, in turn: a page, the cart, sometimes an item added (its cart checked each time). */
async function shop(s: Shopper, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    if (i % 10 === 0) await ok(s, s.addToCart(1 + ((s.id + i) % PRODUCTS)), 'POST /cart');
    else if (i % 3 === 0)
      await ok(
        s,
        s.checkCart().then((c) => c.reply),
        'GET /cart',
      );
    else await ok(s, s.request('GET', '/whoami'), 'GET /whoami');
  }
}

// Traefik runs on the local real node (hack/node.sh); kind's ingress is ingress-nginx.
const onLocalNode = profile() === 'local' ? describe : describe.skip;

onLocalNode('the shop through a Traefik Ingress with cookie affinity', () => {
  beforeAll(async () => {
    const origin = process.env.SAPP_E2E_INGRESS_URL;
    if (!origin) throw new Error('SAPP_E2E_INGRESS_URL is not set: hack/node.sh env exports it (Traefik)');
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
    await Promise.allSettled(shoppers.map((s) => s.close()));
    if (op && process.env.SAPP_E2E_KEEP !== '1') await op.stop().catch(() => undefined);
    if (ns && process.env.SAPP_E2E_KEEP !== '1') deleteNamespace(ns);
  }, 300_000);

  it(
    'goes from apply to Ready with an Ingress of class traefik',
    async () => {
      const t0 = Date.now();
      applyObj(manifest);
      await eventually(
        'ScalableApp Ready=True',
        () => condition(getObj('sapp', ns, APP), 'Ready')?.status === 'True',
        {
          timeoutMs: 20 * 60_000,
          intervalMs: 2000,
        },
      );
      note(`apply → Ready: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      const ingress = getObj('ingress', ns, `${APP}-web`);
      expect((ingress?.spec as { ingressClassName?: string } | undefined)?.ingressClassName).toBe('traefik');
      // Ready includes ExposureReady: Traefik admitted the Ingress (its ingressEndpoint address is in the status).
      expect(ingress?.status).toMatchObject({ loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } });
      expect(pods(ns, webSelector).filter((p) => p.ready).length).toBeGreaterThanOrEqual(MIN_REPLICAS);
    },
    21 * 60_000,
  );

  it('keeps every shopper on one pod across hundreds of requests, with no failed request', async () => {
    const probe = new Shopper(100, 100, target);
    shoppers.push(probe);
    // Traefik reads the new Ingress and its endpoints within seconds of Ready.
    await eventually(
      'the catalog answers through Traefik',
      async () => (await probe.request('GET', '/')).status === 200,
      {
        timeoutMs: 60_000,
        intervalMs: 1000,
      },
    );
    // Ready needs two ready web pods, not Traefik having both: new sessions (no cookie) must reach both first.
    // (The first run started the shoppers at once and Traefik sent all 8 to one pod.)
    const fresh = new Set<string>();
    await eventually(
      'new sessions reaching two pods through Traefik',
      async () => {
        const s = new Shopper(101, 101, target);
        fresh.add((await s.request('GET', '/whoami')).pod ?? '?');
        await s.close();
        return fresh.size >= 2;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    for (let i = 0; i < SHOPPERS; i++) shoppers.push(new Shopper(i, 2001 + i, target));
    const active = shoppers.filter((s) => s !== probe);
    const t0 = Date.now();
    await Promise.all(active.map((s) => shop(s, REQUESTS)));
    const web = pods(ns, webSelector).filter((p) => p.ready);
    const served = new Set(active.map((s) => s.pod));
    const requests = active.reduce((n, s) => n + s.requests, 0);
    note(
      `${active.length} shoppers × ${REQUESTS} requests (${requests} in ${((Date.now() - t0) / 1000).toFixed(1)} s) ` +
        `over ${web.length} ready web pods: ${served.size} pods served them, ` +
        `${active.reduce((n, s) => n + s.switches, 0)} switches, ${active.reduce((n, s) => n + s.lostCarts, 0)} lost carts, ${failures.length} failed`,
    );
    for (const s of active) expect(s.cookies.has(COOKIE)).toBe(true);
    expect(failures).toEqual([]);
    expect(web.length).toBeGreaterThanOrEqual(2);
    // Traefik spreads new sessions over the pods: stickiness is tested only if more than one pod served.
    expect(served.size).toBeGreaterThanOrEqual(2);
    expect(
      active
        .map((s) => ({ shopper: s.id, pods: s.podHistory.map((p) => p.pod) }))
        .filter((s) => s.pods.length > 1),
    ).toEqual([]);
    expect(active.every((s) => s.requests >= REQUESTS && s.lostCarts === 0)).toBe(true);
  }, 600_000);

  it('moves a shopper whose pod is deleted to another pod, cart intact, no failed request', async () => {
    const active = shoppers.filter((s) => s.id < SHOPPERS);
    const victim = active[0]!;
    const gone = victim.pod!;
    const others = active.filter((s) => s.pod !== gone);
    const before = new Map(others.map((s) => [s, s.pod]));
    const failedBefore = failures.length;
    // Everyone keeps shopping while the pod is deleted (graceful: it leaves the endpoints, then stops).
    const deletion = (async () => {
      await new Promise((r) => setTimeout(r, 2000));
      // Not the synchronous kubectl: the shoppers share the event loop.
      await kubectlAsync(['-n', ns, 'delete', 'pod', gone, '--wait=true']);
    })();
    const t0 = Date.now();
    await Promise.all([deletion, ...active.map((s) => shop(s, 150))]);
    await shop(victim, 30);
    const { reply, intact } = await victim.checkCart();
    note(
      `pod ${gone} deleted under ${active.length} shoppers (${((Date.now() - t0) / 1000).toFixed(1)} s): ` +
        `shopper ${victim.id} went ${victim.podHistory.map((p) => p.pod).join(' → ')}, cart ${intact ? 'intact' : 'LOST'} ` +
        `(${[...victim.cart.values()].reduce((a, b) => a + b, 0)} items); ` +
        `${others.filter((s) => s.pod !== before.get(s)).length} of ${others.length} shoppers on other pods moved; ` +
        `${failures.length - failedBefore} failed`,
    );
    expect(reply.status).toBe(200);
    expect(intact).toBe(true);
    expect(victim.pod).not.toBe(gone);
    expect(victim.lostCarts).toBe(0);
    expect(failures).toEqual([]);
    expect(others.filter((s) => s.pod !== before.get(s)).map((s) => s.id)).toEqual([]);
  }, 600_000);
});
