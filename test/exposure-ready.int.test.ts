// ExposureReady means traffic can arrive. The local cluster runs no Ingress or Gateway controller, so each test
// plays one by writing the status subresource, as a real controller does: an Ingress is exposed once an address
// is in its status, an HTTPRoute once its parent Gateway reports Accepted and ResolvedRefs. Until then the app
// says what it waits for (or the Gateway's reason for refusing) and is not Ready. The operator runs without a
// periodic resync, so every reconcile after the status write came from the watch event of that write; one that
// changes nothing the operator reports makes no write request.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { OperatorHandle } from '../src/operator.js';
import { applyObj, condition, example, getObj, type Obj } from './harness/apps.js';
import { createNamespace, deleteNamespace, kubectl } from './harness/cluster.js';
import { reconcilesByResult, startInProcess, writeRequests } from './harness/operator.js';
import { eventually, sleep } from './harness/wait.js';

let ns: string;
let op: OperatorHandle;

beforeAll(async () => {
  ns = createNamespace('exposure-ready');
  op = await startInProcess(ns, { RESYNC_PERIOD_SECONDS: '0' });
}, 60_000);

afterAll(async () => {
  await op?.stop();
  deleteNamespace(ns);
});

/** minimal.yaml named `name`, exposed as given. */
function appWith(name: string, exposure: Record<string, unknown>): Obj {
  const app = example('minimal.yaml', ns, name);
  app.spec = { ...app.spec, exposure };
  return app;
}

const conditionOf = (name: string, type: string) => condition(getObj('sapp', ns, name), type);

/** Writes `status` through the status subresource of `kind/name`, as the kind's controller does. */
function writeStatus(kind: string, name: string, status: Record<string, unknown>): void {
  kubectl([
    '-n',
    ns,
    'patch',
    kind,
    name,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status }),
  ]);
}

async function counters() {
  const text = await op.metrics.registry.metrics();
  const reconciles = Object.values(reconcilesByResult(text)).reduce((a, b) => a + b, 0);
  return { reconciles, writes: writeRequests(text) };
}

/**
 * Waits until the operator is quiet: its queue idle and no reconcile for a second (pods, workloads and its own
 * status writes have stopped sending events). Nothing but a new event reconciles the app after that.
 */
async function settled(): Promise<Awaited<ReturnType<typeof counters>>> {
  let last = await counters();
  for (;;) {
    await sleep(1000);
    await op.controller.queue.idle();
    const now = await counters();
    if (now.reconciles === last.reconciles) return now;
    last = now;
  }
}

/** Waits for the condition to have this status and reason; returns it. */
async function conditionBecomes(app: string, type: string, status: string, reason: string) {
  return eventually(
    `${app} ${type}=${status} ${reason}`,
    () => {
      const c = conditionOf(app, type);
      return c?.status === status && c.reason === reason ? c : undefined;
    },
    { timeoutMs: 60_000 },
  );
}

describe('an app exposed through an Ingress', () => {
  const APP = 'ing';
  const INGRESS = `${APP}-web`;

  it('waits for an Ingress controller to admit the Ingress, naming it and its class, and is not Ready', async () => {
    applyObj(
      appWith(APP, {
        type: 'Ingress',
        ingressClassName: 'traefik',
        host: 'ing.example.test',
        sessionAffinity: 'Cookie',
      }),
    );
    await conditionBecomes(APP, 'WebReady', 'True', 'PodsReady');
    const exposure = await conditionBecomes(APP, 'ExposureReady', 'False', 'WaitingForIngressController');
    expect(exposure.message).toBe(
      `Ingress ${INGRESS} has no address yet: waiting for the controller of IngressClass traefik to admit it.`,
    );
    const ready = await conditionBecomes(APP, 'Ready', 'False', 'ComponentsNotReady');
    expect(ready.message).toBe(`ExposureReady: ${exposure.message}`);
  }, 90_000);

  it('is exposed and Ready once the Ingress has an address, through the event of that status write', async () => {
    const before = await settled();
    writeStatus('ingress', INGRESS, { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } });
    const exposure = await conditionBecomes(APP, 'ExposureReady', 'True', 'Exposed');
    expect(exposure.message).toMatch(/^Ingress traefik \(cookie SAPP_AFFINITY\)\./);
    await conditionBecomes(APP, 'Ready', 'True', 'AllComponentsReady');
    expect((await counters()).reconciles).toBeGreaterThan(before.reconciles);
  }, 60_000);

  it('reconciles on a status change that alters nothing it reports, and writes nothing', async () => {
    const before = await settled();
    const rv = getObj('sapp', ns, APP)!.metadata.resourceVersion;
    writeStatus('ingress', INGRESS, { loadBalancer: { ingress: [{ ip: '192.0.2.11' }] } });
    await eventually('a reconcile after the status write', async () => {
      await op.controller.queue.idle();
      return (await counters()).reconciles > before.reconciles;
    });
    expect((await counters()).writes - before.writes).toBe(0);
    expect(getObj('sapp', ns, APP)!.metadata.resourceVersion).toBe(rv);
  }, 60_000);

  it('waits again when the controller withdraws the address', async () => {
    writeStatus('ingress', INGRESS, { loadBalancer: { ingress: null } });
    await conditionBecomes(APP, 'ExposureReady', 'False', 'WaitingForIngressController');
    await conditionBecomes(APP, 'Ready', 'False', 'ComponentsNotReady');
  }, 60_000);
});

describe('an app exposed through a Gateway', () => {
  const APP = 'gw';
  const ROUTE = `${APP}-web`;
  const parentRef = { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public' };
  /** The one status.parents entry a Gateway's controller writes for this route. */
  const parents = (
    generation: number,
    ...conditions: [type: string, status: string, reason: string, message: string][]
  ) => [
    {
      parentRef,
      controllerName: 'example.test/gateway-controller',
      conditions: conditions.map(([type, status, reason, message]) => ({
        type,
        status,
        reason,
        message,
        observedGeneration: generation,
        lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      })),
    },
  ];
  const generation = () => getObj('httproute', ns, ROUTE)!.metadata.generation!;

  it('waits for the parent Gateway to accept the HTTPRoute, and is not Ready', async () => {
    applyObj(appWith(APP, { type: 'Gateway', gateway: { name: 'public' }, sessionAffinity: 'Cookie' }));
    await conditionBecomes(APP, 'WebReady', 'True', 'PodsReady');
    const exposure = await conditionBecomes(APP, 'ExposureReady', 'False', 'WaitingForGateway');
    expect(exposure.message).toMatch(
      new RegExp(
        `^HTTPRoute ${ROUTE}: waiting for Gateway ${ns}/public to accept it \\(no status from its controller yet\\)\\.`,
      ),
    );
    await conditionBecomes(APP, 'Ready', 'False', 'ComponentsNotReady');
  }, 90_000);

  it('reports the Gateway’s reason and message when it refuses the route', async () => {
    writeStatus('httproute', ROUTE, {
      parents: parents(
        generation(),
        ['Accepted', 'False', 'NotAllowedByListeners', 'no listener of Gateway public allows this namespace'],
        ['ResolvedRefs', 'True', 'ResolvedRefs', 'every reference resolved'],
      ),
    });
    const exposure = await conditionBecomes(APP, 'ExposureReady', 'False', 'NotAllowedByListeners');
    expect(exposure.message).toMatch(
      new RegExp(
        `^HTTPRoute ${ROUTE}: Gateway ${ns}/public says Accepted=False \\(NotAllowedByListeners\\): no listener of Gateway public allows this namespace\\.`,
      ),
    );
  }, 60_000);

  it('is exposed and Ready once the Gateway accepts it with every reference resolved', async () => {
    const before = await settled();
    writeStatus('httproute', ROUTE, {
      parents: parents(
        generation(),
        ['Accepted', 'True', 'Accepted', 'accepted'],
        ['ResolvedRefs', 'True', 'ResolvedRefs', 'every reference resolved'],
      ),
    });
    const exposure = await conditionBecomes(APP, 'ExposureReady', 'True', 'Exposed');
    expect(exposure.message).toMatch(
      new RegExp(`^HTTPRoute on Gateway public \\(cookie SAPP_AFFINITY\\)\\.`),
    );
    await conditionBecomes(APP, 'Ready', 'True', 'AllComponentsReady');
    expect((await counters()).reconciles).toBeGreaterThan(before.reconciles);
  }, 60_000);
});
