// The reconcile pipeline against a fake API client and fixed caches: what a pass asks the API server for, and
// what it reports, for cases that need no real server.
import { describe, expect, it } from '@jest/globals';
import type { KubernetesObject } from '@kubernetes/client-node';
import { type Logger, pino } from 'pino';
import { scalableApp, withCache, type Modifier } from '../../test/fixtures/scalable-app.js';
import type { KubeClient, RequestOptions, Verb } from '../kube/client.js';
import { ApiError } from '../kube/errors.js';
import { TerminalError } from '../runtime/queue.js';
import { Caches } from './caches.js';
import type { EventRecorder } from './events.js';
import { Reconciler, reconcileIDOf } from './reconciler.js';

interface Request {
  verb: Verb;
  path: string;
  opts?: RequestOptions;
}

interface Fake {
  reconciler: Reconciler;
  requests: Request[];
  events: { type: string; reason: string; message: string }[];
}

/** A fixed cache of one kind, standing in for an informer. */
function store(kind: string, objects: KubernetesObject[]) {
  const inNs = (ns?: string) => objects.filter((o) => ns === undefined || o.metadata?.namespace === ns);
  return {
    kind,
    namespace: undefined,
    get: (ns: string, name: string) => inNs(ns).find((o) => o.metadata?.name === name),
    list: inNs,
  };
}

/** A reconciler whose caches hold `objects` (the app among them) and whose API server answers `answer`. */
/** What the fake API server says by default: no object exists, every write succeeds. */
const notFoundOrOk = (r: Request) => {
  if (r.verb === 'GET') throw new ApiError(404, 'NotFound', `${r.path} not found`);
  return {};
};

/** A reconciler whose caches hold `objects` (the app among them) and whose API server answers `answer`. */
function fakeReconciler(
  objects: KubernetesObject[],
  answer: (r: Request) => unknown = notFoundOrOk,
  log: Logger = pino({ level: 'silent' }),
): Fake {
  const requests: Request[] = [];
  const events: Fake['events'] = [];
  const client = {
    request: async (verb: Verb, path: string, opts?: RequestOptions) => {
      const r = { verb, path, opts };
      requests.push(r);
      return answer(r);
    },
  } as unknown as KubeClient;
  const caches = new Caches();
  for (const kind of new Set(['ScalableApp', 'Secret', ...objects.map((o) => o.kind!)])) {
    caches.add(
      store(
        kind,
        objects.filter((o) => o.kind === kind),
      ) as unknown as Parameters<Caches['add']>[0],
    );
  }
  const recorder = {
    record: async (_target: unknown, type: string, reason: string, message: string) => {
      events.push({ type, reason, message });
    },
  } as unknown as EventRecorder;
  const reconciler = new Reconciler({
    client,
    caches,
    log,
    events: recorder,
    now: () => new Date('2026-01-01T00:00:00Z'),
    generatePassword: () => 'a-fixed-test-password',
  });
  return { reconciler, requests, events };
}

/** The app as the cache holds it: stored by the API server (uid, generation). */
const stored = (...mods: Modifier[]) => {
  const app = scalableApp(...mods);
  app.metadata = { ...app.metadata, uid: 'uid-shop', generation: 1, resourceVersion: '1' };
  return app as KubernetesObject;
};

const statusPatch = (requests: Request[]) =>
  requests.find((r) => r.verb === 'PATCH' && r.path.endsWith('/status'))?.opts?.body as
    | { status: { conditions: { type: string; status: string; reason: string; message: string }[] } }
    | undefined;

describe('Reconciler', () => {
  describe('an object a builder refuses', () => {
    // The schema accepts each field alone; the cache builder refuses the pair (Redis would be OOM-killed).
    const refused = () =>
      stored(withCache({ maxMemory: '600mb', resources: { limits: { memory: '512Mi' } } }));

    it('is an invalid spec: terminal, not retried, with Ready=False reason InvalidSpec naming the field', async () => {
      const { reconciler, requests, events } = fakeReconciler([refused()]);
      const pass = reconciler.reconcile('shop/shop');
      await expect(pass).rejects.toThrow(TerminalError);
      await expect(pass).rejects.toThrow(/spec\.cache\.maxMemory/);
      const ready = statusPatch(requests)?.status.conditions.find((c) => c.type === 'Ready');
      expect(ready).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
      expect(ready?.message).toMatch(
        /^spec\.cache\.maxMemory: 600mb must be below resources\.limits\.memory/,
      );
      expect(events).toEqual([expect.objectContaining({ type: 'Warning', reason: 'InvalidSpec' })]);
    });

    it('changes no child object: the pass makes no apply and no delete', async () => {
      const { reconciler, requests } = fakeReconciler([refused()]);
      await expect(reconciler.reconcile('shop/shop')).rejects.toThrow(TerminalError);
      const writes = requests.filter((r) => r.verb !== 'GET' && !r.path.endsWith('/status'));
      expect(writes).toEqual([]);
    });
  });

  describe('objects that already exist', () => {
    const isApply = (r: Request) =>
      r.verb === 'PATCH' && !r.path.endsWith('/status') && !r.opts?.query?.dryRun;
    const isDryRun = (r: Request) => r.verb === 'PATCH' && r.opts?.query?.dryRun !== undefined;
    const web = '/apis/apps/v1/namespaces/shop/deployments/shop-web';
    /** The API server's answers when shop-web exists (its dry run has a resourceVersion) and reads as `live`. */
    const webExists =
      (live: () => unknown) =>
      (r: Request): unknown => {
        if (r.path !== web) return notFoundOrOk(r);
        if (r.verb === 'GET') return live();
        return isDryRun(r) ? { metadata: { resourceVersion: '7' } } : {};
      };
    const theirs = (owner?: string) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'shop-web',
        namespace: 'shop',
        labels: {
          'app.kubernetes.io/managed-by': 'scalable-app-operator',
          'app.kubernetes.io/instance': 'shop',
        },
        ...(owner
          ? {
              ownerReferences: [
                {
                  apiVersion: 'scalable.dev/v1alpha1',
                  kind: 'ScalableApp',
                  name: 'shop',
                  uid: owner,
                  controller: true,
                },
              ],
            }
          : {}),
      },
    });

    it('a desired object missing from the caches is not read when its dry run says it would be created (no resourceVersion): it is created', async () => {
      const { reconciler, requests } = fakeReconciler([stored()]);
      const outcome = await reconciler.reconcile('shop/shop');
      expect(outcome.created).toContain('Deployment/shop-web');
      expect(requests.filter((r) => r.verb === 'GET')).toEqual([]);
      const dryRun = requests.findIndex((r) => isDryRun(r) && r.path === web);
      expect(dryRun).toBeGreaterThanOrEqual(0);
      expect(dryRun).toBeLessThan(requests.findIndex((r) => isApply(r)));
    });

    it('an object missing from the caches that its dry run finds (the cache lags) is read once, and is not reported created', async () => {
      const ours = { ...theirs('uid-shop'), spec: { replicas: 5 } };
      const { reconciler, requests } = fakeReconciler(
        [stored()],
        webExists(() => ours),
      );
      const outcome = await reconciler.reconcile('shop/shop');
      expect(requests.filter((r) => r.verb === 'GET').map((r) => r.path)).toEqual([web]);
      expect(outcome.created).not.toContain('Deployment/shop-web');
      expect(outcome.applied).toContain('Deployment/shop-web'); // it drifted: replicas 5, not 2
    });

    it('an existing object without the app’s owner reference is left alone: nothing is applied, Degraded NotOwned names it, and the pass is retried', async () => {
      const { reconciler, requests } = fakeReconciler(
        [stored()],
        webExists(() => ({ ...theirs(), metadata: { name: 'shop-web', namespace: 'shop' } })),
      );
      const pass = reconciler.reconcile('shop/shop');
      await expect(pass).rejects.toThrow('Deployment shop-web exists and is not owned by this ScalableApp');
      await expect(pass).rejects.not.toThrow(TerminalError);
      expect(requests.filter(isApply)).toEqual([]);
      const degraded = statusPatch(requests)?.status.conditions.find((c) => c.type === 'Degraded');
      expect(degraded).toMatchObject({ status: 'True', reason: 'NotOwned' });
      expect(degraded?.message).toMatch(/^Deployment shop-web exists and is not owned by this ScalableApp/);
    });

    it('an object missing from the caches whose dry run is refused (say, an immutable selector) and that is someone else’s is NotOwned, not Invalid', async () => {
      const { reconciler, requests } = fakeReconciler([stored()], (r) => {
        if (r.path === web && isDryRun(r))
          throw new ApiError(422, 'Invalid', 'spec.selector: field is immutable');
        if (r.path === web && r.verb === 'GET')
          return { ...theirs(), metadata: { name: 'shop-web', namespace: 'shop' } };
        return notFoundOrOk(r);
      });
      await expect(reconciler.reconcile('shop/shop')).rejects.toThrow(
        /^Deployment shop-web exists and is not owned/,
      );
      expect(requests.filter(isApply)).toEqual([]);
    });

    it('an object labelled as ours but with another owner’s uid is not taken over', async () => {
      const { reconciler, requests } = fakeReconciler([stored(), theirs('uid-someone-else')], (r) =>
        r.verb === 'GET' && r.path === web ? theirs('uid-someone-else') : notFoundOrOk(r),
      );
      await expect(reconciler.reconcile('shop/shop')).rejects.toThrow(/Deployment shop-web exists/);
      expect(requests.filter(isApply)).toEqual([]);
    });

    it('an object the cache still shows as another app’s is read again: gone means create (the cache lags)', async () => {
      const { reconciler, requests } = fakeReconciler([stored(), theirs('uid-deleted-app')]);
      const outcome = await reconciler.reconcile('shop/shop');
      expect(requests.filter((r) => r.verb === 'GET' && r.path === web)).toHaveLength(1);
      expect(outcome.created).toContain('Deployment/shop-web');
    });

    it('a failed read is an error, not an absence: nothing is applied', async () => {
      const etcdDown = () => {
        throw new ApiError(500, 'InternalError', 'etcd is down');
      };
      const { reconciler, requests } = fakeReconciler([stored()], webExists(etcdDown));
      await expect(reconciler.reconcile('shop/shop')).rejects.toThrow('etcd is down');
      expect(requests.filter(isApply)).toEqual([]);
    });

    it('the credentials Secret kept on Retain (our labels and name, no owner) is this app’s: its passwords stay', async () => {
      const kept = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: 'shop-credentials',
          namespace: 'shop',
          labels: {
            'app.kubernetes.io/managed-by': 'scalable-app-operator',
            'app.kubernetes.io/instance': 'shop',
          },
        },
        data: { REDIS_PASSWORD: Buffer.from('the-kept-password').toString('base64') },
      };
      const { reconciler, requests } = fakeReconciler([stored(withCache()), kept]);
      await reconciler.reconcile('shop/shop');
      const credentials = requests.find((r) => isApply(r) && r.path.endsWith('/secrets/shop-credentials'));
      const data = (credentials?.opts?.body as { data: Record<string, string> }).data;
      expect(Buffer.from(data.REDIS_PASSWORD!, 'base64').toString()).toBe('the-kept-password');
      expect(
        requests.filter((r) => r.verb === 'GET' && r.path.endsWith('/secrets/shop-credentials')),
      ).toEqual([]);
    });
  });

  describe('the status of the pass that creates the objects', () => {
    /** The API server's answer to an apply: the object as applied (a real apply stores it: a resourceVersion). */
    const applied = (r: Request) => {
      if (r.verb !== 'PATCH' || r.path.endsWith('/status')) return notFoundOrOk(r);
      const body = r.opts?.body as { metadata: Record<string, unknown> };
      return r.opts?.query?.dryRun ? body : { ...body, metadata: { ...body.metadata, resourceVersion: '9' } };
    };

    it('counts the web Deployment it created (its desired pods, none ready yet), so the next pass sees no scaling', async () => {
      const { reconciler, requests } = fakeReconciler([stored()], applied);
      await reconciler.reconcile('shop/shop');
      const web = (statusPatch(requests)?.status as { web?: unknown } | undefined)?.web;
      expect(web).toMatchObject({ desiredReplicas: 2, readyReplicas: 0, ready: '0/2' });
    });
  });

  describe('logs', () => {
    /** A logger at debug level whose lines land in `lines`. */
    function capture() {
      const lines: Record<string, unknown>[] = [];
      const log = pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s)) });
      return { lines, log };
    }

    it('every line of one pass carries the same reconcileID, and the next pass gets another', async () => {
      const { lines, log } = capture();
      const { reconciler } = fakeReconciler([stored()], notFoundOrOk, log);
      await reconciler.reconcile('shop/shop');
      const first = new Set(lines.map((l) => l.reconcileID));
      expect(lines.length).toBeGreaterThan(2); // drift lines, reconciled, status written
      expect(first.size).toBe(1);
      expect([...first][0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      lines.length = 0;
      await reconciler.reconcile('shop/shop');
      expect(lines.length).toBeGreaterThan(0);
      expect(new Set(lines.map((l) => l.reconcileID))).not.toContain([...first][0]);
    });

    it('the error a failed pass throws carries the reconcileID its lines were logged with', async () => {
      const { lines, log } = capture();
      const failing = (r: Request) => {
        if (r.verb === 'PATCH' && r.opts?.query?.dryRun)
          throw new ApiError(500, 'InternalError', 'etcd is down');
        return notFoundOrOk(r);
      };
      const { reconciler } = fakeReconciler([stored()], failing, log);
      const err = await reconciler.reconcile('shop/shop').catch((e: unknown) => e);
      expect(err).toEqual(expect.objectContaining({ message: expect.stringContaining('etcd is down') }));
      expect(reconcileIDOf(err)).toBeDefined();
      expect(lines.find((l) => l.msg === 'reconcile failed')?.reconcileID).toBe(reconcileIDOf(err));
    });
  });
});
