// End to end on the local real node: the shop exposed through a Gateway API HTTPRoute attached to Traefik's Gateway
// (GatewayClass traefik, Gateway traefik/traefik, hack/node.sh runs it), reached the way a browser would, through
// Traefik on this machine's 127.0.0.1 (SAPP_E2E_INGRESS_URL: one entry point serves the Ingress and the Gateway).
//
// What it proves: Traefik accepts the operator's HTTPRoute (status.parents: Accepted and ResolvedRefs True, written
// by traefik.io/gateway-controller), the shop answers through it from two or more pods with no failed request,
// and carts survive the pod changes, a deleted pod included (carts live in the data tier, not in a pod).
//
// What it does not: cookie stickiness. Traefik v3.7.13's Gateway provider does not implement the rule's
// `sessionPersistence` (GEP-1619; traefik/traefik#11243 is open) and reads no sticky setting from the backend
// Service (only `traefik.io/service.nativelb`): the route is accepted, the field ignored. The test pins that down
// (no affinity cookie, shoppers switch pods), so that it fails, and says so, the day Traefik honours the field;
// with Traefik, cookie stickiness comes from the Ingress exposure (e2e/ingress.e2e.test.ts).
//
// Knobs (environment): SAPP_E2E_GATEWAY_SHOPPERS (default 8), SAPP_E2E_GATEWAY_REQUESTS (per shopper, default 250).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createNamespace } from '../test/harness/cluster.js';
import { applyObj, getObj, type Obj } from '../test/harness/apps.js';
import { eventually } from '../test/harness/wait.js';
import { Shopper, type Target } from './harness/load.js';
import { operatorMode, type RunningOperator, startOperatorFor } from './harness/operator.js';
import { Report, secs } from './harness/report.js';
import { browse, freshSessionsReach } from './harness/sessions.js';
import {
  APP,
  kubectlAsync,
  MIN_REPLICAS,
  pods,
  profile,
  shopManifest,
  traefikOrigin,
  waitForShopReady,
  webSelector,
} from './harness/shop.js';
import { dropNamespace, stopOperator } from './harness/teardown.js';

const SHOPPERS = Number(process.env.SAPP_E2E_GATEWAY_SHOPPERS ?? 8);
const REQUESTS = Number(process.env.SAPP_E2E_GATEWAY_REQUESTS ?? 250);
const HOST = 'shop-gateway.example.test';
const COOKIE = 'SAPP_AFFINITY';
const GATEWAY = { name: 'traefik', namespace: 'traefik' };
const CONTROLLER = 'traefik.io/gateway-controller';

const { note } = new Report('gateway');

interface RouteParentStatus {
  parentRef: { name: string; namespace?: string };
  controllerName: string;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}

/** The HTTPRoute's status.parents entry Traefik wrote for its Gateway, if any. */
function traefikParent(route: Obj | undefined): RouteParentStatus | undefined {
  const parents = (route?.status as { parents?: RouteParentStatus[] } | undefined)?.parents ?? [];
  return parents.find((p) => p.controllerName === CONTROLLER && p.parentRef.name === GATEWAY.name);
}

const parentCondition = (p: RouteParentStatus | undefined, type: string) =>
  p?.conditions?.find((c) => c.type === type);

let ns: string;
let op: RunningOperator | undefined;
let manifest: Obj;
let target: Target;
const shoppers: Shopper[] = [];
/** Failed requests: a status other than 200, or a network error. */
const failures: string[] = [];

/** `n` requests of one shopper (a page, the cart, sometimes an item added), its failed ones in `failures`. */
const shop = (s: Shopper, n: number) => browse(s, n, (what) => failures.push(what));

// Traefik's Gateway runs on the local real node (hack/node.sh); kind has no Gateway controller.
const onLocalNode = profile() === 'local' ? describe : describe.skip;

onLocalNode("the shop through Traefik's Gateway (HTTPRoute, sessionAffinity Cookie)", () => {
  beforeAll(async () => {
    const origin = traefikOrigin();
    target = { origin, host: HOST };
    ns = createNamespace('e2e-gw');
    manifest = shopManifest(ns).obj;
    manifest.spec!.exposure = { type: 'Gateway', sessionAffinity: 'Cookie', host: HOST, gateway: GATEWAY };
    op = await startOperatorFor(ns);
    note(`namespace ${ns}, operator ${operatorMode()}, target ${origin} (Host: ${HOST})`);
  }, 600_000);

  afterAll(async () => {
    await Promise.allSettled(shoppers.map((s) => s.close()));
    await stopOperator(op);
    dropNamespace(ns);
  }, 300_000);

  it(
    "goes from apply to Ready with an HTTPRoute that Traefik's Gateway accepts",
    async () => {
      const t0 = Date.now();
      applyObj(manifest);
      await waitForShopReady(ns, 20 * 60_000);
      note(`apply → Ready: ${secs(Date.now() - t0)}`);
      expect(pods(ns, webSelector).filter((p) => p.ready).length).toBeGreaterThanOrEqual(MIN_REPLICAS);
      await eventually(
        'the HTTPRoute Accepted and ResolvedRefs by Traefik',
        () => {
          const p = traefikParent(getObj('httproute', ns, `${APP}-web`));
          return (
            parentCondition(p, 'Accepted')?.status === 'True' &&
            parentCondition(p, 'ResolvedRefs')?.status === 'True'
          );
        },
        { timeoutMs: 60_000, intervalMs: 1000 },
      );
      const route = getObj('httproute', ns, `${APP}-web`)!;
      const parent = traefikParent(route)!;
      note(
        `HTTPRoute status.parents[${CONTROLLER}]: ` +
          (parent.conditions ?? []).map((c) => `${c.type}=${c.status} (${c.reason ?? ''})`).join(', '),
      );
      expect(parent.parentRef).toMatchObject(GATEWAY);
      // The operator asked for cookie persistence; the API server (experimental channel CRD) kept the field.
      const rules = (
        route.spec as { rules: { sessionPersistence?: { type: string; sessionName: string } }[] }
      ).rules;
      expect(rules[0]!.sessionPersistence).toMatchObject({ type: 'Cookie', sessionName: COOKIE });
    },
    21 * 60_000,
  );

  it('serves every shopper from two or more pods with carts intact and no failed request (no stickiness: Traefik ignores sessionPersistence)', async () => {
    const probe = new Shopper(100, 100, target);
    shoppers.push(probe);
    await eventually(
      'the catalog answers through the Gateway',
      async () => (await probe.request('GET', '/')).status === 200,
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    // Both ready pods in Traefik's round robin before the shoppers start (Ready needs the pods, not Traefik).
    await freshSessionsReach(target, 'two pods through the Gateway', (seen) => seen.size >= 2);
    for (let i = 0; i < SHOPPERS; i++) shoppers.push(new Shopper(i, 3001 + i, target));
    const active = shoppers.filter((s) => s.id < SHOPPERS);
    const t0 = Date.now();
    await Promise.all(active.map((s) => shop(s, REQUESTS)));
    const web = pods(ns, webSelector).filter((p) => p.ready);
    const served = new Set(active.flatMap((s) => s.podHistory.map((p) => p.pod)));
    const requests = active.reduce((n, s) => n + s.requests, 0);
    const switches = active.reduce((n, s) => n + s.switches, 0);
    note(
      `${active.length} shoppers × ${REQUESTS} requests (${requests} in ${secs(Date.now() - t0)}) ` +
        `over ${web.length} ready web pods: ${served.size} pods served them, ${switches} switches, ` +
        `${active.reduce((n, s) => n + s.lostCarts, 0)} lost carts, ${failures.length} failed; ` +
        `affinity cookie set for ${active.filter((s) => s.cookies.has(COOKIE)).length} shoppers`,
    );
    expect(failures).toEqual([]);
    expect(web.length).toBeGreaterThanOrEqual(2);
    expect(served.size).toBeGreaterThanOrEqual(2);
    expect(active.every((s) => s.requests >= REQUESTS && s.lostCarts === 0)).toBe(true);
    // The known limit, pinned: when this fails, Traefik honours sessionPersistence; test 0 switches instead
    // (as e2e/ingress.e2e.test.ts does) and update README "Exposure" and e2e/REAL-NODE.md.
    expect(active.filter((s) => s.cookies.has(COOKIE)).map((s) => s.id)).toEqual([]);
    expect(switches).toBeGreaterThan(0);
  }, 600_000);

  it('keeps serving, carts intact, while a web pod is deleted, with no failed request', async () => {
    const active = shoppers.filter((s) => s.id < SHOPPERS);
    const gone = pods(ns, webSelector).find((p) => p.ready)!.name;
    const failedBefore = failures.length;
    // Everyone keeps shopping while the pod is deleted (graceful: it leaves the endpoints, then stops).
    const deletion = (async () => {
      await new Promise((r) => setTimeout(r, 2000));
      // Not the synchronous kubectl: the shoppers share the event loop.
      await kubectlAsync(['-n', ns, 'delete', 'pod', gone, '--wait=true']);
    })();
    const t0 = Date.now();
    const historyBefore = new Map(active.map((s) => [s, s.podHistory.length]));
    await Promise.all([deletion, ...active.map((s) => shop(s, 150))]);
    // After the deletion, requests go to the pods left: none to the deleted one.
    const after = active.map((s) => ({ s, pods: new Set<string>() }));
    await Promise.all(
      after.map(async ({ s, pods: seen }) => {
        for (let i = 0; i < 20; i++) seen.add((await s.request('GET', '/whoami')).pod ?? '?');
      }),
    );
    const carts = await Promise.all(active.map((s) => s.checkCart()));
    const items = active.reduce((n, s) => n + [...s.cart.values()].reduce((a, b) => a + b, 0), 0);
    const usedGone = active.filter((s) =>
      s.podHistory.slice(historyBefore.get(s)).some((p) => p.pod === gone),
    );
    note(
      `pod ${gone} deleted under ${active.length} shoppers (${secs(Date.now() - t0)}): ` +
        `${usedGone.length} of them were served by it during the deletion; carts ${carts.every((c) => c.intact) ? 'intact' : 'LOST'} ` +
        `(${items} items over ${active.length} carts); ${failures.length - failedBefore} failed`,
    );
    expect(failures).toEqual([]);
    expect(carts.map((c) => c.reply.status)).toEqual(active.map(() => 200));
    expect(carts.every((c) => c.intact)).toBe(true);
    expect(active.every((s) => s.lostCarts === 0)).toBe(true);
    expect(after.filter(({ pods: seen }) => seen.has(gone)).map(({ s }) => s.id)).toEqual([]);
  }, 600_000);
});
