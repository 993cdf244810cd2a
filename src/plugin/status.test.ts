import { describe, expect, it } from '@jest/globals';
import { formatStatus, podPhase } from './status.js';
import { app, database, leaving, pod, ready, role, tier, waiting } from './fixtures.js';

const NOW = new Date('2026-12-01T04:10:00Z');
const condition = (type: string, status: 'True' | 'False', reason: string, message: string) => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: '2026-12-01T04:05:00Z',
});

const shop = app({
  observedGeneration: 2,
  conditions: [
    condition('DatabaseReady', 'True', 'Ready', 'primary and 1 replica ready; shard 0 ready'),
    condition('Ready', 'True', 'AllComponentsReady', 'every component is ready'),
  ],
  url: 'http://shop.example.test',
  exposure: { mechanism: 'Ingress nginx (cookie SAPP_AFFINITY)' },
  web: { replicas: 2, readyReplicas: 2, desiredReplicas: 2, selector: 'x', ready: '2/2' },
  cache: { readyReplicas: 1, ready: '1/1', endpoint: 'shop-cache:6379' },
  database: {
    engine: 'mysql',
    ready: '3/4',
    primary: {
      ready: true,
      endpoint: 'shop-db-primary:3306',
      pod: 'shop-db-replica-0',
      lastFailover: {
        time: '2026-12-01T04:07:00Z',
        from: 'shop-db-primary-0',
        to: 'shop-db-replica-0',
        reason: 'primary shop-db-primary-0 is unreachable',
      },
    },
    replicas: { replicas: 1, readyReplicas: 0, endpoint: 'shop-db-replicas:3306' },
    shards: [
      {
        index: 0,
        ready: true,
        writeEndpoint: 'shop-db-shard-0-primary:3306',
        readEndpoint: 'shop-db-shard-0-primary:3306',
        primaryPod: 'shop-db-shard-0-primary-0',
      },
    ],
  },
});

const pods = [
  pod('shop-web-5c9d-x2', tier('web'), ready()),
  pod('shop-web-5c9d-x1', tier('web'), ready(2)),
  pod('shop-db-primary-0', database(), role('replica'), waiting('CrashLoopBackOff')),
  pod('shop-db-replica-0', database(), role('primary'), ready()),
  pod('shop-db-shard-0-primary-0', database('0'), role('primary'), ready()),
  pod('shop-cache-0', tier('cache'), role('primary'), ready()),
];

describe('formatStatus', () => {
  const text = formatStatus({ app: shop, pods, now: NOW });

  it('heads with readiness, URL, exposure and generations', () => {
    expect(text).toContain('Ready:      True (AllComponentsReady)');
    expect(text).toContain('URL:        http://shop.example.test');
    expect(text).toContain('Exposure:   Ingress nginx (cookie SAPP_AFFINITY)');
    expect(text).toContain('Generation: 2, observed 2\n');
  });

  it('lists the conditions Ready first, with their age', () => {
    const lines = text.split('\n');
    const ready = lines.findIndex((l) =>
      /^ {2}Ready +True +AllComponentsReady +5m +every component is ready$/.test(l),
    );
    const db = lines.findIndex((l) => l.startsWith('  DatabaseReady'));
    expect(ready).toBeGreaterThan(0);
    expect(db).toBeGreaterThan(ready);
  });

  it('names each group primary as status records it, and the last failover', () => {
    expect(text).toMatch(
      / {2}main +shop-db-replica-0 \(ready\) +shop-db-primary:3306 +shop-db-replicas:3306 +0\/1 ready\n/,
    );
    expect(text).toMatch(
      / {2}shard 0 +shop-db-shard-0-primary-0 \(ready\) +shop-db-shard-0-primary:3306 +shop-db-shard-0-primary:3306 +none\n/,
    );
    expect(text).toContain(
      '    main: 2026-12-01T04:07:00Z shop-db-primary-0 -> shop-db-replica-0: primary shop-db-primary-0 is unreachable\n',
    );
    expect(text).toContain('    shard 0: none recorded\n');
  });

  it('shows each database pod with its group and the role it is labelled with', () => {
    expect(text).toMatch(/ {2}shop-db-primary-0 +main +replica +0\/1 +CrashLoopBackOff +3 +10m +node-1/);
    expect(text).toMatch(/ {2}shop-db-replica-0 +main +primary +1\/1 +Running +0 +10m +node-1/);
    expect(text).toMatch(/ {2}shop-db-shard-0-primary-0 +shard 0 +primary +1\/1 +Running/);
  });

  it('shows the web pods by name with restarts, and the cache with its role and endpoint', () => {
    expect(text).toContain('Web: 2/2 ready (2 exist)');
    expect(text.indexOf('shop-web-5c9d-x1')).toBeLessThan(text.indexOf('shop-web-5c9d-x2'));
    expect(text).toMatch(/ {2}shop-web-5c9d-x1 +1\/1 +Running +2 +10m +node-1/);
    expect(text).toContain('Cache (redis): 1/1 ready, at shop-cache:6379');
    expect(text).toMatch(/ {2}shop-cache-0 +primary +1\/1 +Running/);
  });

  it('says that replica lag is not reported rather than showing a number', () => {
    expect(text).toContain('Replica lag: not reported in status.');
  });

  it('shows the shard map: its version, and the progress of a resharding', () => {
    expect(text).not.toContain('Shard map');
    const base = shop.status!.database!;
    const withMap = (shardMap: NonNullable<typeof base.shardMap>) =>
      formatStatus({
        app: { ...shop, status: { ...shop.status, database: { ...base, shardMap } } },
        pods,
        now: NOW,
      });
    const map = { version: 4, shards: 1, movedBuckets: 0, totalBuckets: 0, message: '' };
    expect(withMap({ ...map, state: 'idle' })).toContain('  Shard map: version 4, 1 shards, current\n');
    expect(
      withMap({
        ...map,
        state: 'moving',
        shards: 2,
        movedBuckets: 96,
        totalBuckets: 512,
        maxBatchPauseMs: 640,
        message: 'moving shard 0 → shard 1',
      }),
    ).toContain(
      '  Shard map: version 4, 2 shards, moving 96/512 buckets (longest write pause 640 ms): moving shard 0 → shard 1\n',
    );
  });

  it('notes a pod labelled primary that is not the one status records', () => {
    const stale = formatStatus({
      app: shop,
      pods: pods.map((p) =>
        p.metadata!.name === 'shop-db-primary-0' ? pod('shop-db-primary-0', database(), role('primary')) : p,
      ),
      now: NOW,
    });
    expect(stale).toContain(
      'shop-db-replica-0 (ready); labelled primary: shop-db-primary-0, shop-db-replica-0',
    );
  });

  it('reads as the example in the README', () => {
    expect(text).toMatchSnapshot();
  });
});

describe('formatStatus of an app the operator has not seen yet', () => {
  const text = formatStatus({ app: app(undefined), pods: [], now: NOW });

  it('says what is missing instead of failing', () => {
    expect(text).toContain('Ready:      Unknown (not reported yet)');
    expect(text).toContain('Generation: 2, observed none yet');
    expect(text).toContain(
      'Conditions: none reported yet (is the operator running and watching this namespace?)',
    );
    expect(text).toContain('Web: ? ready\n  no pods');
    expect(text).not.toContain('Database');
    expect(text).not.toContain('Cache');
  });
});

describe('podPhase', () => {
  it.each([
    ['a running pod', pod('p', ready()), 'Running'],
    ['a container waiting', pod('p', waiting('ImagePullBackOff')), 'ImagePullBackOff'],
    ['a pod being deleted', pod('p', ready(), leaving), 'Terminating'],
  ])('%s', (_name, p, expected) => {
    expect(podPhase(p)).toBe(expected);
  });
});
