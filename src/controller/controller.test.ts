import { describe, expect, it } from '@jest/globals';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { KubeClient } from '../kube/client.js';
import type { Informer } from '../runtime/informer.js';
import { Metrics } from '../runtime/metrics.js';
import type { Store } from './caches.js';
import { CONTROLLER_NAME, Controller } from './controller.js';

/** A client that answers every request with an empty object and remembers what was asked. */
function fakeClient() {
  const requests: string[] = [];
  const client = {
    request: async (verb: string, path: string) => {
      requests.push(`${verb} ${path}`);
      return {};
    },
  } as unknown as KubeClient;
  return { client, requests };
}

/** A paused app: a pass reads the cache and writes status, nothing else. */
const pausedApp: KubernetesObject = {
  apiVersion: 'scalable.dev/v1alpha1',
  kind: 'ScalableApp',
  metadata: { name: 'shop', namespace: 'shop', uid: 'u1', generation: 1 },
  spec: { paused: true, web: { image: 'scalable-shop:0.1.0' } },
} as KubernetesObject;

/** A fixed ScalableApp cache standing in for the informer (a unit test has no API server to list from). */
const appStore = (apps: KubernetesObject[]): Store => ({
  kind: 'ScalableApp',
  namespace: undefined,
  get: (ns, name) => apps.find((a) => a.metadata?.namespace === ns && a.metadata.name === name),
  list: () => apps,
});

function controllerWith(result?: () => Promise<{ requeueAfterMs?: number }>) {
  const metrics = new Metrics();
  const { client, requests } = fakeClient();
  const controller = new Controller({
    kubeConfig: new KubeConfig(),
    client,
    log: pino({ level: 'silent' }),
    metrics,
    concurrency: 1,
  });
  controller.caches.add(appStore([pausedApp]) as Informer);
  if (result) {
    const reconciler = controller.reconciler as { reconcile: (key: string) => Promise<unknown> };
    reconciler.reconcile = result;
  }
  return { controller, metrics, requests };
}

const reconcileTotal = async (metrics: Metrics) =>
  Object.fromEntries(
    [
      ...(await metrics.registry.metrics()).matchAll(
        new RegExp(
          `controller_runtime_reconcile_total\\{controller="${CONTROLLER_NAME}",result="(\\w+)"\\} (\\d+)`,
          'g',
        ),
      ),
    ].map((m) => [m[1], Number(m[2])]),
  );

describe('Controller metrics', () => {
  it('counts a healthy pass as result="success", as controller-runtime does', async () => {
    const { controller, metrics, requests } = controllerWith();
    controller.startWorkers();
    await controller.queue.idle();
    expect(requests).toContainEqual(expect.stringMatching(/^PATCH .*\/scalableapps\/shop\/status$/)); // it ran
    expect(await reconcileTotal(metrics)).toEqual({ success: 1 });
    await controller.queue.shutdown();
  });

  it('counts requeue_after only when the pass asked for one, and error when it failed', async () => {
    const requeue = controllerWith(async () => ({ requeueAfterMs: 50 }));
    requeue.controller.startWorkers();
    await requeue.controller.queue.idle();
    expect(await reconcileTotal(requeue.metrics)).toEqual({ requeue_after: 1 });
    await requeue.controller.queue.shutdown();

    const failing = controllerWith(() => Promise.reject(new Error('API server unreachable')));
    failing.controller.startWorkers();
    await failing.controller.queue.idle();
    expect(await reconcileTotal(failing.metrics)).toEqual({ error: 1 });
    await failing.controller.queue.shutdown();
  });
});
