import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import pino from 'pino';
import { parsed, TEST_CREDENTIALS } from '../../test/fixtures/build-context.js';
import { scalableApp, withDatabase, withShards } from '../../test/fixtures/scalable-app.js';
import type { ScalableApp } from '../api/v1alpha1/index.js';
import { REPLICATION_ROLE_LABEL } from '../builders/meta.js';
import type { PassResult, Target, Topology, reshardPass } from '../resharding/pass.js';
import { Metrics } from '../runtime/metrics.js';
import type { Caches } from './caches.js';
import type { EventRecorder } from './events.js';
import { ReshardingMonitor } from './resharding-monitor.js';

const log = pino({ level: 'silent' });

/** A ready database pod of a group, labelled primary or replica, at 10.0.<group>.<ordinal>. */
function dbPod(shard: string, role: 'primary' | 'replica', ordinal: number, ready = true): V1Pod {
  const set = shard === 'main' ? `shop-db-${role}` : `shop-db-shard-${shard}-${role}`;
  return {
    metadata: {
      name: `${set}-${ordinal}`,
      namespace: 'shop',
      labels: {
        'app.kubernetes.io/instance': 'shop',
        'app.kubernetes.io/component': 'database',
        'scalable.dev/shard': shard,
        [REPLICATION_ROLE_LABEL]: role,
      },
    },
    status: {
      podIP: `10.0.${shard === 'main' ? 99 : shard}.${role === 'primary' ? 1 : 10 + ordinal}`,
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  };
}

const groupPods = (shards: number) => [
  dbPod('main', 'primary', 0),
  dbPod('main', 'replica', 0),
  ...Array.from({ length: shards }, (_, i) => [
    dbPod(String(i), 'primary', 0),
    dbPod(String(i), 'replica', 0),
  ]).flat(),
];

const app = (shards: number): ScalableApp =>
  parsed(scalableApp(withDatabase({ engine: 'mariadb' }), withShards(shards)));

interface Call {
  topology: Topology;
  target: Target;
}

/** A monitor over fake caches, with a scripted pass: each call takes the next result (the last one repeats). */
/** The app's web Deployment: rolled out, or with `updated` of `replicas` pods from its current template. */
const webDeployment = (replicas = 2, updated = replicas) => ({
  metadata: { name: 'shop-web', generation: 3, labels: { 'app.kubernetes.io/instance': 'shop' } },
  status: { observedGeneration: 3, replicas, updatedReplicas: updated },
});

function harness(
  pods: V1Pod[],
  results: PassResult[],
  batches: { pauseMs: number; buckets: number }[][] = [],
  deployments: unknown[] = [webDeployment()],
) {
  const calls: Call[] = [];
  const events: { type: string; reason: string; message: string }[] = [];
  const enqueued: string[] = [];
  const metrics = new Metrics();
  let n = 0;
  const pass: typeof reshardPass = async (topology, target, deps) => {
    calls.push({ topology, target });
    const i = Math.min(n++, results.length - 1);
    for (const b of batches[i] ?? []) {
      deps?.onBatch?.({
        from: 0,
        to: 2,
        buckets: Array.from({ length: b.buckets }, (_, k) => k),
        rows: 3,
        pauseMs: b.pauseMs,
        version: i,
      });
    }
    return results[i]!;
  };
  const caches = {
    list: (kind: string) => (kind === 'Deployment' ? deployments : pods),
    get: () => ({ metadata: { name: 'shop', namespace: 'shop' } }),
  } as unknown as Caches;
  const recorder = {
    record: async (_t: unknown, type: string, reason: string, message: string) => {
      events.push({ type, reason, message });
    },
  } as unknown as EventRecorder;
  const monitor = new ReshardingMonitor({
    caches,
    log,
    events: recorder,
    metrics,
    enqueue: (key) => enqueued.push(key),
    pass,
    waitMs: 20,
  });
  return { monitor, calls, events, enqueued, metrics };
}

const settle = (ms = 60) => new Promise((r) => setTimeout(r, ms));

const idle = (version: number, message = 'the map routes to every shard'): PassResult => ({
  state: 'idle',
  version,
  movedBuckets: 0,
  totalBuckets: 0,
  message,
});

describe('ReshardingMonitor', () => {
  it('reads the map once when it first sees an app, then makes no pass until the count changes', async () => {
    const h = harness(groupPods(2), [idle(3)]);
    h.monitor.track(app(2), TEST_CREDENTIALS, 2);
    await settle();
    for (let i = 0; i < 5; i++) h.monitor.track(app(2), TEST_CREDENTIALS, 2);
    await settle();
    expect(h.calls).toHaveLength(1);
    expect(h.calls[0]!.target).toEqual({ count: 2, batchBuckets: 32, mapMaxAgeMs: 2000, seedCount: 2 });
    expect(h.monitor.report('shop/shop')).toMatchObject({ state: 'idle', version: 3, toCount: 2 });
    expect(h.events).toEqual([]);
    h.monitor.stop();
  });

  it('hands the mover every group: the labelled, ready primary and the ready replicas, as the app user', async () => {
    const pods = [...groupPods(1), dbPod('0', 'replica', 1, false)];
    const h = harness(pods, [idle(1)]);
    h.monitor.track(app(1), TEST_CREDENTIALS, 1);
    await settle();
    expect(h.calls[0]!.topology).toEqual({
      engine: 'mariadb',
      database: 'app',
      user: 'app',
      password: TEST_CREDENTIALS.appPassword,
      main: { primary: { host: '10.0.99.1', port: 3306 }, replicas: [{ host: '10.0.99.10', port: 3306 }] },
      shards: [{ primary: { host: '10.0.0.1', port: 3306 }, replicas: [{ host: '10.0.0.10', port: 3306 }] }],
    });
    h.monitor.stop();
  });

  it('waits, and says for which group, while a new shard has no ready primary; moves once it has', async () => {
    const pods = [...groupPods(2), dbPod('2', 'primary', 0, false)];
    const h = harness(pods, [idle(1)]);
    h.monitor.track(app(3), TEST_CREDENTIALS, 2);
    await settle();
    expect(h.calls).toHaveLength(0);
    expect(h.monitor.report('shop/shop')).toMatchObject({
      state: 'waiting',
      message: 'waiting for shard 2: no ready primary yet',
    });
    pods[pods.length - 1] = dbPod('2', 'primary', 0, true);
    await settle();
    expect(h.calls.length).toBeGreaterThan(0);
    expect(h.calls[0]!.topology.shards).toHaveLength(3);
    h.monitor.stop();
  });

  it('moves no bucket while the web pods roll out to the binding that lists the new shard', async () => {
    const deployments = [webDeployment(3, 1)];
    const h = harness(groupPods(3), [idle(4)], [], deployments);
    h.monitor.track(app(3), TEST_CREDENTIALS, 2);
    await settle();
    expect(h.calls).toHaveLength(0);
    expect(h.monitor.report('shop/shop')).toMatchObject({
      state: 'waiting',
      totalBuckets: 0,
      message:
        'waiting for Deployment shop-web to roll out: its pods must have the binding of 3 shards before buckets move',
    });
    deployments[0] = webDeployment(2);
    await settle();
    expect(h.calls).toHaveLength(1);
    expect(h.events).toEqual([]);
    h.monitor.stop();
  });

  it('runs passes back to back while batches remain, then reports started, each batch and completed', async () => {
    const moving = (moved: number): PassResult => ({
      state: 'moving',
      version: 4 + moved,
      movedBuckets: moved,
      totalBuckets: 64,
      message: `moved ${moved} of 64 buckets`,
    });
    const h = harness(
      groupPods(3),
      [moving(32), moving(64), idle(9, 'moved 64 buckets')],
      [[{ pauseMs: 400, buckets: 32 }], [{ pauseMs: 900, buckets: 32 }], []],
    );
    h.monitor.track(app(3), TEST_CREDENTIALS, 2);
    await settle(150);
    expect(h.calls).toHaveLength(3);
    expect(h.events.map((e) => e.reason)).toEqual(['ReshardingStarted', 'ReshardingCompleted']);
    expect(h.events[0]!.message).toMatch(/moving 64 buckets to reach 3 shards/);
    expect(h.events[1]!.message).toMatch(/longest write pause 900 ms/);
    expect(h.monitor.report('shop/shop')).toMatchObject({ state: 'idle', version: 9, toCount: 3 });
    const text = await h.metrics.registry.metrics();
    expect(text).toMatch(/^scalableapp_resharding_buckets_moved_total 64$/m);
    expect(text).toMatch(/^scalableapp_resharding_batch_write_pause_seconds_count 2$/m);
    // Every change of what status shows asks for a reconcile.
    expect(h.enqueued.length).toBeGreaterThanOrEqual(3);
    h.monitor.stop();
  });

  it('shows progress batch by batch while a pass runs, not only when it ends', async () => {
    const h = harness(groupPods(3), [idle(1)]);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const progress = (movedBuckets: number) =>
      ({
        fromCount: 2,
        toCount: 3,
        batchBuckets: 16,
        batch: movedBuckets / 16,
        step: 'pause',
        totalBuckets: 64,
        movedBuckets,
        startedAt: 0,
      }) as const;
    const monitor = new ReshardingMonitor({
      caches: { list: () => groupPods(3), get: () => undefined } as unknown as Caches,
      log,
      events: { record: async () => undefined } as unknown as EventRecorder,
      metrics: h.metrics,
      enqueue: (key) => h.enqueued.push(key),
      pass: async (_topology, _target, deps) => {
        deps?.onStep?.(progress(0));
        deps?.onStep?.(progress(16));
        deps?.onStep?.(progress(16));
        await held;
        return idle(5);
      },
    });
    monitor.track(app(3), TEST_CREDENTIALS, 2);
    await settle();
    expect(monitor.report('shop/shop')).toMatchObject({
      state: 'moving',
      movedBuckets: 16,
      totalBuckets: 64,
    });
    const enqueuedMidPass = h.enqueued.length;
    expect(enqueuedMidPass).toBe(2);
    release();
    await settle();
    expect(monitor.report('shop/shop')).toMatchObject({ state: 'idle', version: 5 });
    monitor.stop();
  });

  it('reports a rolled-back batch once as a Warning, and tries again after the time the pass asks', async () => {
    const failed: PassResult = {
      state: 'failed',
      version: 5,
      movedBuckets: 0,
      totalBuckets: 64,
      message: 'orders: key 7 exists on shard 2 and shard 0: batch rolled back',
      reason: 'KeyConflict',
      retryAfterMs: 30,
    };
    const h = harness(groupPods(3), [failed, failed, failed]);
    h.monitor.track(app(3), TEST_CREDENTIALS, 2);
    await settle(200);
    expect(h.calls.length).toBeGreaterThanOrEqual(3);
    expect(h.events.filter((e) => e.reason === 'ReshardingFailed')).toEqual([
      { type: 'Warning', reason: 'ReshardingFailed', message: failed.message },
    ]);
    expect(h.monitor.report('shop/shop')).toMatchObject({ state: 'failed', reason: 'KeyConflict' });
    h.monitor.stop();
  });

  it('forgets an app that is untracked: no further pass', async () => {
    const h = harness(groupPods(3), [
      {
        state: 'waiting',
        version: 2,
        movedBuckets: 1,
        totalBuckets: 2,
        message: 'draining',
        retryAfterMs: 30,
      },
    ]);
    h.monitor.track(app(3), TEST_CREDENTIALS, 2);
    await settle(10);
    h.monitor.untrack('shop/shop');
    const calls = h.calls.length;
    await settle(100);
    expect(h.calls.length).toBe(calls);
    expect(h.monitor.report('shop/shop')).toBeUndefined();
    h.monitor.stop();
  });
});
