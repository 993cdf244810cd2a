// The informer on a real API server: an idle watch (past client-node's 30 s inactivity abort) still delivers
// the next event within a second, and a restart of the API server is survived without a flood of requests.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { KubeClient, loadKubeConfig } from '../src/kube/client.js';
import { OWNED_TYPES } from '../src/kube/resources.js';
import { rootLogger } from '../src/log.js';
import { Informer } from '../src/runtime/informer.js';
import { REPO_ROOT, createNamespace, deleteNamespace, kubectl } from './harness/cluster.js';
import { eventually, sleep } from './harness/wait.js';

const configMaps = OWNED_TYPES.find((t) => t.kind === 'ConfigMap')!;
let ns: string;
let informer: Informer;
let requests = 0;
let client: KubeClient;
const events: { type: string; name: string; at: number }[] = [];

beforeAll(async () => {
  ns = createNamespace('informer');
  const kc = loadKubeConfig(process.env.KUBECONFIG);
  client = new KubeClient(kc, { onRequest: () => requests++ });
  informer = new Informer({
    type: configMaps,
    kubeConfig: kc,
    client,
    log: rootLogger('error'),
    namespace: ns,
    labelSelector: 'test=informer',
  });
  informer.on((type, obj) => events.push({ type, name: obj.metadata!.name!, at: Date.now() }));
  await informer.start();
  await informer.waitForSync();
});
afterAll(async () => {
  await informer.stop();
  await client.close();
  deleteNamespace(ns);
});

const createConfigMap = (name: string) =>
  kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: ns, labels: { test: 'informer' } },
    }),
  });

describe('informer', () => {
  it('delivers an event on a watch idle for longer than 30 s within a second', async () => {
    await sleep(35_000);
    createConfigMap('after-idle');
    const created = Date.now();
    const ev = await eventually('event', () => events.find((e) => e.name === 'after-idle'), {
      timeoutMs: 5000,
      intervalMs: 20,
    });
    // kubectl returns after the write; the event may even arrive before it returns.
    expect(ev.at - created).toBeLessThan(1000);
    expect(informer.get(ns, 'after-idle')).toBeDefined();
  }, 60_000);

  it('recovers from an API server restart and sees changes made after it', async () => {
    execFileSync('bash', [join(REPO_ROOT, 'hack/cluster.sh'), 'restart-apiserver'], { stdio: 'ignore' });
    const before = requests;
    createConfigMap('after-restart');
    await eventually('event after restart', () => events.find((e) => e.name === 'after-restart'), {
      timeoutMs: 30_000,
    });
    // Reconnecting is a handful of requests, not a flood.
    expect(requests - before).toBeLessThan(20);
  }, 60_000);
});
