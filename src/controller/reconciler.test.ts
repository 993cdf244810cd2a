// The reconcile pipeline against a fake API client and fixed caches: what a pass asks the API server for, and
// what it reports, for cases that need no real server.
import { describe, expect, it } from '@jest/globals';
import type { KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { scalableApp, withCache, type Modifier } from '../../test/fixtures/scalable-app.js';
import type { KubeClient, RequestOptions, Verb } from '../kube/client.js';
import { TerminalError } from '../runtime/queue.js';
import { Caches } from './caches.js';
import type { EventRecorder } from './events.js';
import { Reconciler } from './reconciler.js';

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
function fakeReconciler(objects: KubernetesObject[], answer: (r: Request) => unknown = () => ({})): Fake {
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
    log: pino({ level: 'silent' }),
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
});
