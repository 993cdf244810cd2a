// The operator against a real API server (kwok nodes make pods Ready): shop.yaml to Ready, owner references and
// labels, no request at all for a no-op reconcile, targeted updates, pruning, drift repair, the HPA left alone,
// an invalid object in storage, credentials that predate the Redis password, and a cache without a database.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { OperatorHandle } from '../src/operator.js';
import { REPO_ROOT, createNamespace, deleteNamespace, kubectl } from './harness/cluster.js';
import {
  admitIngress,
  applyObj,
  childKey,
  children,
  condition,
  example,
  getObj,
  type Obj,
  eventsOf,
} from './harness/apps.js';
import { reconcilesByResult, requestsByMethod, startInProcess } from './harness/operator.js';
import { eventually, sleep } from './harness/wait.js';

let ns: string;
let op: OperatorHandle;
let shop: Obj;

const app = () => getObj('sapp', ns, 'shop');
/** How far each counter moved between two snapshots. */
const moved = (after: Record<string, number>, before: Record<string, number>) =>
  Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
const nonZero = (counts: Record<string, number>) =>
  Object.fromEntries(Object.entries(counts).filter(([, v]) => v !== 0));
const versions = () => new Map(children(ns, 'shop').map((o) => [childKey(o), o.metadata.resourceVersion]));

beforeAll(async () => {
  ns = createNamespace('op');
  op = await startInProcess(ns);
  shop = example('shop.yaml', ns);
}, 60_000);

afterAll(async () => {
  await op?.stop();
  deleteNamespace(ns);
});

describe('operator on a real API server', () => {
  it('takes examples/shop.yaml to Ready, and kubectl wait returns', async () => {
    applyObj(shop);
    await admitIngress(ns, 'shop-web'); // as an Ingress controller would: ExposureReady waits for its address
    await eventually('Ready=True', () => condition(app(), 'Ready')?.status === 'True', {
      timeoutMs: 120_000,
    });
    const res = kubectl(['-n', ns, 'wait', '--for=condition=Ready', 'sapp/shop', '--timeout=5s']);
    expect(res.stdout).toContain('condition met');
    const status = app()!.status!;
    expect(status.observedGeneration).toBe(app()!.metadata.generation);
    expect(status).toMatchObject({
      web: { readyReplicas: 2, desiredReplicas: 2 },
      cache: { readyReplicas: 1 },
      database: { primary: { ready: true }, replicas: { readyReplicas: 2 } },
      bindingSecretName: 'shop-binding',
    });
    for (const type of ['WebReady', 'CacheReady', 'DatabaseReady', 'ExposureReady']) {
      expect({ type, status: condition(app(), type)?.status }).toEqual({ type, status: 'True' });
    }
  }, 150_000);

  it('creates every child with an owner reference and the standard labels', () => {
    const uid = app()!.metadata.uid;
    const kids = children(ns, 'shop');
    const kinds = new Set(kids.map((o) => o.kind));
    for (const k of [
      'Secret',
      'ConfigMap',
      'Service',
      'Deployment',
      'StatefulSet',
      'HorizontalPodAutoscaler',
      'Ingress',
      'NetworkPolicy',
      'PodDisruptionBudget',
    ]) {
      expect(kinds).toContain(k);
    }
    // main group + 2 shards, each primary + replicas, + Redis
    expect(kids.filter((o) => o.kind === 'StatefulSet')).toHaveLength(7);
    for (const o of kids) {
      expect(o.metadata.labels).toMatchObject({
        'app.kubernetes.io/instance': 'shop',
        'app.kubernetes.io/managed-by': 'scalable-app-operator',
        'app.kubernetes.io/part-of': 'shop',
      });
      expect(o.metadata.labels!['app.kubernetes.io/component']).toBeTruthy();
      if (o.metadata.name === 'shop-credentials') {
        expect(o.metadata.ownerReferences).toBeUndefined(); // deletionPolicy Retain keeps the passwords
      } else {
        expect(o.metadata.ownerReferences).toEqual([
          expect.objectContaining({ kind: 'ScalableApp', name: 'shop', uid, controller: true }),
        ]);
      }
    }
  });

  it('makes no request at all when it reconciles an unchanged app, and the reconciles did run', async () => {
    // Every request but a watch is counted in rest_client_requests_total: reads, lists and writes alike. The
    // watches are long-lived streams opened by client-node's Watch, outside the counted client, so the window
    // holds what the reconciles ask for and nothing else, but for one case: an informer whose watch failed
    // relists (a GET), which is the informer's doing, not a reconcile's. The informers count their lists, and
    // those are taken off.
    const PASSES = 5;
    await sleep(1000);
    await op.controller.queue.idle();
    const snapshot = async () => {
      const text = await op.metrics.registry.metrics();
      return {
        requests: requestsByMethod(text),
        reconciles: reconcilesByResult(text),
        relists: op.controller.caches.all.reduce((n, i) => n + i.lists, 0),
      };
    };
    const before = await snapshot();
    const rvs = versions();
    for (let i = 0; i < PASSES; i++) {
      op.controller.queue.add(`${ns}/shop`);
      await op.controller.queue.idle();
    }
    const after = await snapshot();
    const requests = moved(after.requests, before.requests);
    requests.GET = (requests.GET ?? 0) - (after.relists - before.relists);
    expect(nonZero(requests)).toEqual({});
    const reconciles = moved(after.reconciles, before.reconciles);
    expect(reconciles.error ?? 0).toBe(0);
    expect(Object.values(reconciles).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(PASSES);
    expect(versions()).toEqual(rvs);
  }, 30_000);

  it('a spec change updates exactly the affected children', async () => {
    await op.controller.queue.idle();
    const before = versions();
    applyObj({
      ...shop,
      spec: { ...shop.spec, cache: { ...(shop.spec!.cache as object), maxMemory: '300mb' } },
    });
    await eventually('cache config updated', () =>
      JSON.stringify(getObj('configmap', ns, 'shop-cache-config')?.data ?? {}).includes('300mb'),
    );
    await sleep(500);
    await op.controller.queue.idle();
    const after = versions();
    const changed = [...after.keys()].filter((k) => after.get(k) !== before.get(k)).sort();
    // The Redis config and the StatefulSet whose pods must restart to read it; nothing else.
    expect(
      changed.filter((k) => !k.startsWith('StatefulSet/shop-cache') && k !== 'ConfigMap/shop-cache-config'),
    ).toEqual([]);
    expect(changed).toContain('ConfigMap/shop-cache-config');
  }, 60_000);

  it('restores a child edited by hand within two seconds', async () => {
    const web = getObj('deployment', ns, 'shop-web')!;
    const image = (web.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec
      .containers[0]!.image;
    kubectl(['-n', ns, 'set', 'image', 'deployment/shop-web', 'web=evil:latest']);
    const started = Date.now();
    await eventually(
      'image restored',
      () =>
        (
          getObj('deployment', ns, 'shop-web')?.spec as typeof web.spec & {
            template: { spec: { containers: { image: string }[] } };
          }
        ).template.spec.containers[0]!.image === image,
      { timeoutMs: 5000, intervalMs: 50 },
    );
    expect(Date.now() - started).toBeLessThan(2000);
  }, 15_000);

  it('recreates a child deleted by hand within two seconds', async () => {
    kubectl(['-n', ns, 'delete', 'service', 'shop-db-replicas', '--wait=false']);
    const started = Date.now();
    await eventually(
      'service recreated',
      () => {
        const s = getObj('service', ns, 'shop-db-replicas');
        return s && !(s.metadata as { deletionTimestamp?: string }).deletionTimestamp;
      },
      { timeoutMs: 5000, intervalMs: 50 },
    );
    expect(Date.now() - started).toBeLessThan(2000);
  }, 15_000);

  it('leaves replicas to the HPA: a scale by the autoscaler is not reverted', async () => {
    const web = getObj('deployment', ns, 'shop-web')!;
    const owners = (
      web.metadata as {
        managedFields?: { manager: string; fieldsV1?: { 'f:spec'?: Record<string, unknown> } }[];
      }
    ).managedFields!.filter((m) => m.manager === 'scalable-app-operator');
    for (const m of owners) expect(m.fieldsV1?.['f:spec']?.['f:replicas']).toBeUndefined();
    // What the HPA controller does: write the scale subresource.
    kubectl(['-n', ns, 'scale', 'deployment/shop-web', '--replicas=5']);
    op.controller.queue.add(`${ns}/shop`);
    await sleep(1500);
    await op.controller.queue.idle();
    expect((getObj('deployment', ns, 'shop-web')!.spec as { replicas: number }).replicas).toBe(5);
    await eventually(
      'status follows the HPA',
      () => (app()?.status?.web as { desiredReplicas?: number })?.desiredReplicas === 5,
    );
  }, 30_000);

  it('disabling a component prunes it, and nothing else', async () => {
    const spec = {
      ...shop.spec,
      cache: { ...(shop.spec!.cache as object), maxMemory: '300mb', enabled: false },
    };
    applyObj({ ...shop, spec });
    await eventually('cache pruned', () =>
      children(ns, 'shop').every((o) => o.metadata.labels!['app.kubernetes.io/component'] !== 'cache'),
    );
    const kinds = children(ns, 'shop').map(childKey);
    expect(kinds).toContain('Deployment/shop-web');
    expect(kinds).toContain('StatefulSet/shop-db-primary');
    await eventually(
      'Ready again without a cache',
      () => condition(app(), 'Ready')?.status === 'True' && !condition(app(), 'CacheReady'),
    );
  }, 60_000);
});

describe('upgrading an app whose credentials predate the Redis password', () => {
  it('keeps every MySQL password, adds REDIS_PASSWORD, and puts it in REDIS_URL', async () => {
    // The Secret as an operator without Redis passwords wrote it: the three MySQL keys, nothing else.
    const legacy = { root: 'legacy-root-pw', repl: 'legacy-repl-pw', app: 'legacy-app-pw' };
    const b64 = (v: string) => Buffer.from(v).toString('base64');
    kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: 'legacy-credentials',
          namespace: ns,
          labels: {
            'app.kubernetes.io/managed-by': 'scalable-app-operator',
            'app.kubernetes.io/instance': 'legacy',
          },
        },
        data: {
          MYSQL_ROOT_PASSWORD: b64(legacy.root),
          MYSQL_REPLICATION_PASSWORD: b64(legacy.repl),
          MYSQL_APP_PASSWORD: b64(legacy.app),
        },
      }),
    });
    applyObj(example('shop.yaml', ns, 'legacy'));
    await admitIngress(ns, 'legacy-web');
    await eventually('Ready', () => condition(getObj('sapp', ns, 'legacy'), 'Ready')?.status === 'True', {
      timeoutMs: 60_000,
    });
    const decode = (o: Obj | undefined) =>
      Object.fromEntries(
        Object.entries((o as unknown as { data: Record<string, string> }).data).map(([k, v]) => [
          k,
          Buffer.from(v, 'base64').toString(),
        ]),
      );
    const creds = decode(getObj('secret', ns, 'legacy-credentials'));
    expect(creds).toMatchObject({
      MYSQL_ROOT_PASSWORD: legacy.root,
      MYSQL_REPLICATION_PASSWORD: legacy.repl,
      MYSQL_APP_PASSWORD: legacy.app,
    });
    expect(creds.REDIS_PASSWORD).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const binding = decode(getObj('secret', ns, 'legacy-binding'));
    expect(decodeURIComponent(new URL(binding.REDIS_URL!).password)).toBe(creds.REDIS_PASSWORD);
    expect(decodeURIComponent(new URL(binding.DATABASE_WRITE_URL!).password)).toBe(legacy.app);
  }, 90_000);
});

describe('a web tier with Redis and no database', () => {
  it('gets a Redis password in a credentials Secret that outlives the app, like the cache volume', async () => {
    const app = example('minimal.yaml', ns, 'cached');
    app.spec!.cache = { persistence: 'aof' };
    applyObj(app);
    await eventually('Ready', () => condition(getObj('sapp', ns, 'cached'), 'Ready')?.status === 'True', {
      timeoutMs: 60_000,
    });
    const secret = getObj('secret', ns, 'cached-credentials')!;
    const data = (secret as unknown as { data: Record<string, string> }).data;
    const password = Buffer.from(data.REDIS_PASSWORD!, 'base64').toString();
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(secret.metadata.ownerReferences).toBeUndefined();
    const binding = (getObj('secret', ns, 'cached-binding') as unknown as { data: Record<string, string> })
      .data;
    expect(Object.keys(binding)).toEqual(['REDIS_URL']);
    expect(new URL(Buffer.from(binding.REDIS_URL!, 'base64').toString()).password).toBe(password);

    kubectl(['-n', ns, 'delete', 'sapp', 'cached', '--wait=true']);
    await eventually('web gone', () => !getObj('deployment', ns, 'cached-web'), { timeoutMs: 30_000 });
    expect(getObj('secret', ns, 'cached-credentials')).toBeDefined();
  }, 90_000);
});

describe('an invalid object that reached storage', () => {
  const crdFile = join(REPO_ROOT, 'crds/scalable.dev_scalableapps.yaml');

  it('yields InvalidSpec and changes nothing', async () => {
    // Simulate an object written before a CEL rule existed: load the CRD without its rules, write, restore.
    const crd = JSON.parse(kubectl(['get', 'crd', 'scalableapps.scalable.dev', '-o', 'json']).stdout);
    const strip = (node: Record<string, unknown>) => {
      delete node['x-kubernetes-validations'];
      for (const v of Object.values((node.properties as Record<string, Record<string, unknown>>) ?? {}))
        strip(v);
    };
    strip(crd.spec.versions[0].schema.openAPIV3Schema);
    delete crd.metadata.resourceVersion;
    delete crd.metadata.managedFields;
    try {
      kubectl(['replace', '-f', '-'], { input: JSON.stringify(crd) });
      await sleep(1000);
      const bad = example('minimal.yaml', ns, 'bad');
      (bad.spec!.web as Record<string, unknown>).autoscaling = { minReplicas: 5, maxReplicas: 2 };
      await eventually(
        'invalid object written',
        () => kubectl(['apply', '-f', '-'], { input: JSON.stringify(bad), allowFail: true }).code === 0,
      );
    } finally {
      execFileSync('kubectl', ['apply', '--server-side', '--force-conflicts', '-f', crdFile], {
        env: process.env,
        stdio: 'ignore',
      });
    }
    await eventually(
      'InvalidSpec',
      () => condition(getObj('sapp', ns, 'bad'), 'Ready')?.reason === 'InvalidSpec',
    );
    const ready = condition(getObj('sapp', ns, 'bad'), 'Ready')!;
    expect(ready.status).toBe('False');
    expect(ready.message).toBe(
      'spec.web.autoscaling.minReplicas: minReplicas must be less than or equal to maxReplicas',
    );
    await sleep(1000);
    expect(children(ns, 'bad')).toEqual([]);
    expect(eventsOf(ns, 'involvedObject.name=bad').map((e) => e.reason)).toContain('InvalidSpec');
  }, 60_000);
});
