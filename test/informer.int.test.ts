// The informer on a real API server: an idle watch (past client-node's 30 s inactivity abort) still delivers
// the next event within a second, a restart of the API server is survived without a flood of requests, and the
// resync period hands every cached object back (so the operator reconciles every app again, unprompted).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { LAST_APPLIED_ANNOTATION, cacheTransformFor } from '../src/controller/cache-transforms.js';
import { KubeClient, loadKubeConfig } from '../src/kube/client.js';
import { OWNED_TYPES } from '../src/kube/resources.js';
import { rootLogger } from '../src/log.js';
import { Informer, type InformerOptions } from '../src/runtime/informer.js';
import { REPO_ROOT, createNamespace, deleteNamespace, kubectl } from './harness/cluster.js';
import { startInProcess } from './harness/operator.js';
import { TcpProxy } from './harness/tcp-proxy.js';
import { eventually, sleep } from './harness/wait.js';
import { Writable } from 'node:stream';

const WATCHED = { timeoutMs: 5000, intervalMs: 20 };
const configMaps = OWNED_TYPES.find((t) => t.kind === 'ConfigMap')!;
let ns: string;
let informer: Informer;
let requests = 0;
let client: KubeClient;
const events: { type: string; name: string; at: number }[] = [];

/** An informer on this file's ConfigMaps (label test=informer), through the counting client. */
const configMapInformer = (opts: Partial<InformerOptions> = {}) =>
  new Informer({
    type: configMaps,
    kubeConfig: loadKubeConfig(process.env.KUBECONFIG),
    client,
    log: rootLogger('error'),
    namespace: ns,
    labelSelector: 'test=informer',
    ...opts,
  });

beforeAll(async () => {
  ns = createNamespace('informer');
  const kc = loadKubeConfig(process.env.KUBECONFIG);
  client = new KubeClient(kc, { onRequest: () => requests++ });
  informer = configMapInformer();
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

/** Compacts etcd's history up to its current revision (etcd's JSON gateway), so no older version can be watched. */
async function compactEtcd(): Promise<number> {
  const etcd = process.env.SAPP_ETCD_URL;
  if (!etcd) throw new Error('SAPP_ETCD_URL is not set (hack/cluster.sh env exports it)');
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${etcd}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`etcd ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { header: { revision: string } };
  };
  const revision = Number(
    (await post('/v3/kv/range', { key: Buffer.from('/').toString('base64') })).header.revision,
  );
  await post('/v3/kv/compaction', { revision, physical: true });
  return revision;
}

describe('informer behind a partition', () => {
  let proxy: TcpProxy;
  let cut: Informer;
  let cutClient: KubeClient;
  const seen: { type: string; name: string }[] = [];

  beforeAll(async () => {
    const direct = loadKubeConfig(process.env.KUBECONFIG);
    const server = new URL(direct.getCurrentCluster()!.server);
    proxy = new TcpProxy(server.hostname, Number(server.port));
    await proxy.start();
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: direct.clusters.map((c) => ({ ...c, server: proxy.url })),
      users: direct.users,
      contexts: direct.contexts,
      currentContext: direct.currentContext,
    });
    cutClient = new KubeClient(kc);
    cut = configMapInformer({ kubeConfig: kc, client: cutClient });
    cut.on((type, obj) => seen.push({ type, name: obj.metadata!.name! }));
    await cut.start();
    await cut.waitForSync();
  });
  afterAll(async () => {
    await cut.stop();
    await cutClient.close();
    await proxy.cut();
  });

  it('relists on 410 Gone: deletions and creations missed while cut off reach the cache and the handler', async () => {
    createConfigMap('stays');
    createConfigMap('deleted-while-away');
    await eventually('both cached', () => cut.get(ns, 'stays') && cut.get(ns, 'deleted-while-away'), {
      timeoutMs: 10_000,
    });
    const listsBefore = cut.lists;

    await proxy.cut();
    kubectl(['-n', ns, 'delete', 'configmap', 'deleted-while-away']);
    createConfigMap('created-while-away');
    // A fresh watch cache and a compacted etcd: the informer's last resourceVersion can no longer be watched from,
    // so the API server answers its re-watch with 410 Gone and only a new list can bring it up to date.
    execFileSync('bash', [join(REPO_ROOT, 'hack/cluster.sh'), 'restart-apiserver'], { stdio: 'ignore' });
    await compactEtcd();
    await proxy.start();

    await eventually(
      'cache converged',
      () => !cut.get(ns, 'deleted-while-away') && cut.get(ns, 'created-while-away') && cut.get(ns, 'stays'),
      { timeoutMs: 30_000 },
    );
    expect(seen).toContainEqual({ type: 'delete', name: 'deleted-while-away' });
    expect(seen).toContainEqual({ type: 'add', name: 'created-while-away' });
    // It got there by listing again (a plain reconnect resumes the watch from its resourceVersion without a list).
    expect(cut.lists).toBeGreaterThan(listsBefore);
  }, 90_000);
});

describe('informer for a resource the API server does not serve', () => {
  it('says which CRD is missing, at error level, and keeps retrying', async () => {
    const lines: { level: string; msg: string }[] = [];
    const log = rootLogger(
      'warn',
      new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(JSON.parse(chunk.toString()) as { level: string; msg: string });
          done();
        },
      }),
    );
    const missing = new Informer({
      type: { apiVersion: 'absent.scalable.dev/v1', kind: 'Absent', plural: 'absents', owned: false },
      kubeConfig: loadKubeConfig(process.env.KUBECONFIG),
      client,
      log,
      namespace: ns,
    });
    void missing.start().catch(() => undefined);
    try {
      await eventually('two attempts logged', () => lines.length >= 2, { timeoutMs: 10_000 });
      expect(lines[0]).toMatchObject({
        level: 'error',
        msg: expect.stringContaining('does not serve Absent (absent.scalable.dev/v1): is its CRD installed?'),
      });
      expect(missing.hasSynced).toBe(false);
    } finally {
      await missing.stop();
    }
  }, 20_000);
});

describe('cache transform', () => {
  it('is applied to every object cached, from the list and from watch events (added and modified)', async () => {
    createConfigMap('listed'); // kubectl's client-side apply: a last-applied annotation and a managedFields entry
    const transformed = configMapInformer({ transform: cacheTransformFor(configMaps) });
    try {
      await transformed.start();
      await transformed.waitForSync();
      createConfigMap('watched');
      await eventually('watched in the cache', () => transformed.get(ns, 'watched'), WATCHED);
      kubectl(['annotate', '-n', ns, 'configmap', 'listed', 'note=edited']);
      await eventually(
        'edit in the cache',
        () => transformed.get(ns, 'listed')?.metadata?.annotations?.note,
        WATCHED,
      );
      for (const name of ['listed', 'watched']) {
        const { metadata } = transformed.get(ns, name)!;
        expect(metadata?.managedFields).toBeUndefined();
        expect(metadata?.annotations?.[LAST_APPLIED_ANNOTATION]).toBeUndefined();
        expect(metadata?.resourceVersion).toBeDefined();
      }
      // What kubectl wrote is still there on the server: only the cache leaves it out.
      const live = JSON.parse(
        kubectl(['get', '-n', ns, 'configmap', 'watched', '-o', 'json', '--show-managed-fields']).stdout,
      );
      expect(live.metadata.managedFields.length).toBeGreaterThan(0);
      expect(live.metadata.annotations[LAST_APPLIED_ANNOTATION]).toBeDefined();
    } finally {
      await transformed.stop();
    }
  }, 30_000);
});

describe('resync period', () => {
  it('hands every cached object to the handler again each period, as a resync, with nothing changed', async () => {
    createConfigMap('resynced');
    const resyncing = configMapInformer({ resyncPeriodMs: 300 });
    const seen: { type: string; name: string }[] = [];
    resyncing.on((type, obj) => seen.push({ type, name: obj.metadata!.name! }));
    try {
      await resyncing.start();
      await resyncing.waitForSync();
      await sleep(1100);
      const resyncs = seen.filter((e) => e.type === 'resync' && e.name === 'resynced').length;
      expect(resyncs).toBeGreaterThanOrEqual(2);
      expect(resyncs).toBeLessThanOrEqual(4);
      // Every cached object, each period: as many resyncs of each as of this one (give or take a period in flight).
      const cached = resyncing.list(ns).length;
      expect(seen.filter((e) => e.type === 'resync').length).toBeGreaterThanOrEqual(
        resyncs * cached - cached,
      );
    } finally {
      await resyncing.stop();
    }
    // Stopped: no more.
    const after = seen.length;
    await sleep(700);
    expect(seen.length).toBe(after);
  }, 30_000);

  it('makes the operator reconcile every app again each RESYNC_PERIOD_SECONDS, though nothing changed', async () => {
    const appNs = createNamespace('resync');
    const op = await startInProcess(appNs, { RESYNC_PERIOD_SECONDS: '1' });
    /** controller_runtime_reconcile_total by result. */
    const reconciles = async (result: string) => {
      const text = await op.metrics.registry.metrics();
      const m = new RegExp(
        `^controller_runtime_reconcile_total\\{[^}]*result="${result}"[^}]*\\} (\\d+)$`,
        'm',
      ).exec(text);
      return m ? Number(m[1]) : 0;
    };
    try {
      kubectl(['apply', '-f', '-'], {
        input: JSON.stringify({
          apiVersion: 'scalable.dev/v1alpha1',
          kind: 'ScalableApp',
          metadata: { name: 'idle', namespace: appNs },
          spec: { paused: true, web: { image: 'scalable-shop:0.1.0' } },
        }),
      });
      await eventually('first reconcile', async () => (await reconciles('success')) >= 1, {
        timeoutMs: 20_000,
      });
      await sleep(1500); // let the passes the creation caused (status written, its update event) settle
      await op.controller.queue.idle();
      const before = await reconciles('success');
      await sleep(3500);
      // Each resync is a pass of its own, and a healthy one counts as success (no pass asks for a requeue).
      expect((await reconciles('success')) - before).toBeGreaterThanOrEqual(2);
      expect(await reconciles('requeue_after')).toBe(0);
    } finally {
      await op.stop();
      deleteNamespace(appNs);
    }
  }, 60_000);
});
