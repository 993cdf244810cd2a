// An optional owned kind (HTTPRoute) is watched whenever its CRD is served, even one installed after the operator
// started: the controller looks for a missing kind again every few seconds, starts its informers once it is
// served and reconciles every app again.
//
// CRDs are cluster-wide and other test files, running at the same time in the same cluster, rely on the Gateway
// API CRDs the global setup installs; so this file never deletes HTTPRoute's CRD. The late install is tested
// with a kind of its own instead: a CRD in a group unique to this run, installed after the controller started
// and deleted at the end, which nothing else watches. The controller handles every optional kind the same way
// (the kind is a parameter), so this is the HTTPRoute path with another name. The HTTPRoute itself is checked
// against the installed CRD: an app exposed through a Gateway gets its route, and a deleted route comes back
// through the watch (no resync within the test).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller } from '../src/controller/controller.js';
import type { ResourceType } from '../src/kube/resources.js';
import type { Metrics } from '../src/runtime/metrics.js';
import type { OperatorHandle } from '../src/operator.js';
import { applyObj, condition, example, getObj } from './harness/apps.js';
import { createNamespace, deleteNamespace, kubectl } from './harness/cluster.js';
import { startInProcess } from './harness/operator.js';
import { eventually, sleep } from './harness/wait.js';
import { testController } from './harness/controller.js';

const RECHECK_MS = 300;
/** Ample for a look every RECHECK_MS and an informer's first list. */
const WITHIN = { timeoutMs: 15_000 };

let ns: string;
let group: string;
let gadget: ResourceType;
const controllers: Controller[] = [];

beforeAll(() => {
  ns = createNamespace('optional-kinds');
  group = `${ns}.test.scalable.dev`;
  gadget = { apiVersion: `${group}/v1`, kind: 'Gadget', plural: 'gadgets', owned: true };
  applyObj({
    ...example('minimal.yaml', ns, 'late'),
    spec: { ...example('minimal.yaml', ns).spec, paused: true },
  });
});

afterAll(async () => {
  await Promise.all(controllers.map((c) => c.stop()));
  kubectl(['delete', 'crd', `gadgets.${group}`, '--ignore-not-found', '--wait=false'], { allowFail: true });
  deleteNamespace(ns);
});

function controller(optionalTypes?: ResourceType[]) {
  const { controller: c, metrics } = testController(ns, {
    concurrency: 1,
    optionalTypes,
    optionalKindRecheckMs: RECHECK_MS,
  });
  controllers.push(c);
  return { c, metrics };
}

const gadgetCrd = () => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `gadgets.${group}` },
  spec: {
    group,
    scope: 'Namespaced',
    names: { kind: 'Gadget', plural: 'gadgets', singular: 'gadget', listKind: 'GadgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      },
    ],
  },
});

const reconciles = async (metrics: Metrics) =>
  [...(await metrics.registry.metrics()).matchAll(/^controller_runtime_reconcile_total\{[^}]*\} (\d+)$/gm)]
    .map((m) => Number(m[1]))
    .reduce((a, b) => a + b, 0);

describe('optional owned kinds', () => {
  it('HTTPRoute is watched from the start when the Gateway API CRDs are installed', async () => {
    const { c } = controller();
    await c.startInformers();
    expect(c.caches.kinds).toContain('HTTPRoute');
    expect(c.unwatchedKinds).toEqual([]);
    await c.stop();
  });

  it('a kind whose CRD is installed after the start is watched from then on, and every app is reconciled again', async () => {
    const { c, metrics } = controller([gadget]);
    await c.startInformers();
    c.startWorkers();
    expect(c.unwatchedKinds).toEqual(['Gadget']);
    expect(c.caches.kinds).not.toContain('Gadget');
    const before = await eventually(
      'the app reconciled once',
      async () => (await reconciles(metrics)) || undefined,
    );

    await sleep(3 * RECHECK_MS); // looked for again, still absent
    expect(c.unwatchedKinds).toEqual(['Gadget']);
    expect(await reconciles(metrics)).toBe(before); // no resync configured: nothing ran again

    applyObj(gadgetCrd());
    kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/gadgets.${group}`]);
    await eventually('Gadget watched', () => c.caches.kinds.includes('Gadget'), WITHIN);
    expect(c.unwatchedKinds).toEqual([]);
    await eventually('the app reconciled again', async () => (await reconciles(metrics)) > before, WITHIN);

    applyObj({
      apiVersion: gadget.apiVersion,
      kind: 'Gadget',
      metadata: {
        name: 'g1',
        namespace: ns,
        labels: { 'app.kubernetes.io/managed-by': 'scalable-app-operator' },
      },
    });
    await eventually('the new Gadget in the cache', () => c.caches.get('Gadget', ns, 'g1'), WITHIN);
  }, 60_000);
});

describe('an app exposed through a Gateway', () => {
  let gwNs: string;
  let op: OperatorHandle;
  beforeAll(async () => {
    gwNs = createNamespace('httproute');
    op = await startInProcess(gwNs);
  }, 60_000);
  afterAll(async () => {
    await op?.stop();
    deleteNamespace(gwNs);
  });

  it('gets an HTTPRoute with cookie session persistence, recreated through the watch when deleted', async () => {
    const app = example('minimal.yaml', gwNs, 'gw');
    app.spec = {
      ...app.spec,
      exposure: { type: 'Gateway', gateway: { name: 'public' }, sessionAffinity: 'Cookie' },
    };
    applyObj(app);
    type Route = { metadata: { uid: string }; spec: { rules: { sessionPersistence?: { type: string } }[] } };
    const route = await eventually(
      'the HTTPRoute',
      () => getObj('httproute', gwNs, 'gw-web') as Route | undefined,
    );
    expect(route.spec.rules[0]!.sessionPersistence).toMatchObject({ type: 'Cookie' });
    // No Gateway controller runs here: the route exists and waits for its Gateway to accept it.
    await eventually(
      'ExposureReady WaitingForGateway',
      () => condition(getObj('scalableapp', gwNs, 'gw'), 'ExposureReady')?.reason === 'WaitingForGateway',
    );

    kubectl(['-n', gwNs, 'delete', 'httproute', 'gw-web']);
    await eventually(
      'the HTTPRoute recreated',
      () =>
        (getObj('httproute', gwNs, 'gw-web') as Route | undefined)?.metadata.uid !== route.metadata.uid
          ? getObj('httproute', gwNs, 'gw-web')
          : undefined,
      WITHIN,
    );
  }, 60_000);
});
