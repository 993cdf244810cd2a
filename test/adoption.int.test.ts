// The operator does not take over objects it did not create: an existing `<app>-web` Deployment or
// `<app>-binding` Secret of someone else (unlabeled, or labelled as ours by a careless user but without the app's
// owner reference) is left exactly as it was, the app says Degraded naming it, with a Warning event, and nothing
// else is applied; once the foreign object is gone, the operator creates its own. The credentials Secret kept on
// `deletionPolicy: Retain` (no owner reference by design) is still this app's when the app is re-created.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { OperatorHandle } from '../src/operator.js';
import { applyObj, children, condition, example, getObj, type Obj, eventsOf } from './harness/apps.js';
import { createNamespace, deleteNamespace, kubectl } from './harness/cluster.js';
import { startInProcess } from './harness/operator.js';
import { eventually, sleep } from './harness/wait.js';

let ns: string;
let op: OperatorHandle;

beforeAll(async () => {
  ns = createNamespace('adopt');
  op = await startInProcess(ns);
}, 60_000);

afterAll(async () => {
  await op?.stop();
  deleteNamespace(ns);
});

const webSelector = (instance: string) => ({
  'app.kubernetes.io/name': instance,
  'app.kubernetes.io/instance': instance,
  'app.kubernetes.io/component': 'web',
});

/** Objects as another manager writes them: kubectl server-side apply with its own field manager. */
const applyAs = (manager: string, obj: unknown) =>
  kubectl(['apply', '--server-side', `--field-manager=${manager}`, '-f', '-'], {
    input: JSON.stringify(obj),
  });

/** Someone else's Deployment, with the very selector the operator's would have (so applying over it would work). */
const foreignDeployment = (name: string, instance: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: ns, labels: { team: 'someone-else' } },
  spec: {
    replicas: 1,
    selector: { matchLabels: webSelector(instance) },
    template: {
      metadata: { labels: webSelector(instance) },
      spec: { containers: [{ name: 'theirs', image: 'registry.k8s.io/pause:3.10' }] },
    },
  },
});

const foreignSecret = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: ns },
  stringData: { note: 'not the operator’s' },
});

/** A careless user's object: our managed-by and instance labels (so it is in the caches), no owner reference. */
const labelledService = (name: string, instance: string) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: {
    name,
    namespace: ns,
    labels: {
      'app.kubernetes.io/managed-by': 'scalable-app-operator',
      'app.kubernetes.io/instance': instance,
    },
  },
  spec: { selector: { app: 'theirs' }, ports: [{ name: 'http', port: 80, targetPort: 9999 }] },
});

/** What another manager's object must keep: everything it wrote, and who wrote it. */
function fingerprint(o: Obj | undefined) {
  const meta = o?.metadata as
    (Obj['metadata'] & { annotations?: unknown; managedFields?: { subresource?: string }[] }) | undefined;
  return {
    uid: meta?.uid,
    generation: meta?.generation,
    labels: meta?.labels,
    annotations: meta?.annotations,
    ownerReferences: meta?.ownerReferences,
    // The Deployment controller writes status; every other entry is the object's own.
    managedFields: meta?.managedFields?.filter((m) => m.subresource !== 'status'),
    spec: o?.spec,
    data: o?.data,
  };
}

const events = (name: string) => eventsOf(ns, `involvedObject.name=${name}`);

const secretValue = (name: string, key: string) => {
  const data = (getObj('secret', ns, name) as { data?: Record<string, string> } | undefined)?.data;
  return data?.[key] === undefined ? undefined : Buffer.from(data[key], 'base64').toString();
};

describe('objects the operator did not create', () => {
  const before = new Map<string, ReturnType<typeof fingerprint>>();
  const foreign = [
    ['deployment', 'shop-web'],
    ['secret', 'shop-binding'],
    ['service', 'shop-web'],
  ] as const;

  it('are left untouched, the app is Degraded naming each one, and a Warning event says so', async () => {
    applyAs('someone-else', foreignDeployment('shop-web', 'shop'));
    applyAs('someone-else', foreignSecret('shop-binding'));
    applyAs('careless-user', labelledService('shop-web', 'shop'));
    for (const [kind, name] of foreign) before.set(`${kind}/${name}`, fingerprint(getObj(kind, ns, name)));

    const app = example('minimal.yaml', ns, 'shop');
    app.spec!.cache = {};
    applyObj(app);
    const degraded = await eventually(
      'Degraded NotOwned',
      () => {
        const c = condition(getObj('sapp', ns, 'shop'), 'Degraded');
        return c?.status === 'True' && c.reason === 'NotOwned' ? c : undefined;
      },
      { timeoutMs: 30_000 },
    );
    for (const named of ['Deployment shop-web', 'Secret shop-binding', 'Service shop-web']) {
      expect(degraded.message).toContain(named);
    }
    expect(degraded.message).toMatch(/not owned by this ScalableApp/);
    expect(condition(getObj('sapp', ns, 'shop'), 'Ready')).toMatchObject({
      status: 'False',
      reason: 'NotOwned',
    });
    await eventually('a Warning event NotOwned', () =>
      events('shop').some((e) => e.type === 'Warning' && e.reason === 'NotOwned'),
    );

    await sleep(2000); // several retries later
    for (const [kind, name] of foreign) {
      expect({ [`${kind}/${name}`]: fingerprint(getObj(kind, ns, name)) }).toEqual({
        [`${kind}/${name}`]: before.get(`${kind}/${name}`),
      });
    }
    // Nothing half-applied: not one object of the app exists (the careless user's Service only carries labels).
    expect(children(ns, 'shop').map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Service/shop-web']);
  }, 90_000);

  it('are replaced by the operator’s own once their owners delete them, and the app becomes Ready', async () => {
    for (const [kind, name] of foreign) kubectl(['-n', ns, 'delete', kind, name, '--wait=true']);
    await eventually('Ready', () => condition(getObj('sapp', ns, 'shop'), 'Ready')?.status === 'True', {
      timeoutMs: 120_000,
    });
    const uid = getObj('sapp', ns, 'shop')!.metadata.uid;
    for (const [kind, name] of foreign) {
      expect(getObj(kind, ns, name)!.metadata.ownerReferences).toEqual([
        expect.objectContaining({ kind: 'ScalableApp', name: 'shop', uid, controller: true }),
      ]);
    }
    expect(secretValue('shop-binding', 'note')).toBeUndefined();
    expect(condition(getObj('sapp', ns, 'shop'), 'Degraded')?.status).toBe('False');
  }, 150_000);
});

describe('the credentials Secret kept on deletionPolicy Retain', () => {
  it('is re-used, not reported, when the app is re-created', async () => {
    const app = example('minimal.yaml', ns, 'keep');
    app.spec!.cache = {};
    applyObj(app);
    await eventually('Ready', () => condition(getObj('sapp', ns, 'keep'), 'Ready')?.status === 'True', {
      timeoutMs: 90_000,
    });
    const password = secretValue('keep-credentials', 'REDIS_PASSWORD');
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(getObj('secret', ns, 'keep-credentials')!.metadata.ownerReferences).toBeUndefined();

    kubectl(['-n', ns, 'delete', 'sapp', 'keep', '--wait=true']);
    await eventually('the app’s objects collected', () => children(ns, 'keep').length === 1, {
      timeoutMs: 60_000,
    });
    applyObj(app);
    await eventually('Ready again', () => condition(getObj('sapp', ns, 'keep'), 'Ready')?.status === 'True', {
      timeoutMs: 90_000,
    });
    expect(secretValue('keep-credentials', 'REDIS_PASSWORD')).toBe(password);
    expect(secretValue('keep-binding', 'REDIS_URL')).toContain(encodeURIComponent(password!));
    expect(condition(getObj('sapp', ns, 'keep'), 'Degraded')?.status).toBe('False');
  }, 240_000);
});
