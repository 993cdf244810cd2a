import { describe, expect, it } from '@jest/globals';
import type { V1Service, V1StatefulSet } from '@kubernetes/client-node';
import { TEST_CREDENTIALS, buildContext, editedContext } from '../../../test/fixtures/build-context.js';
import { withCache, withDatabase, withName } from '../../../test/fixtures/scalable-app.js';
import { CONFIG_HASH_ANNOTATION } from '../data-tier/stateful.js';
import { REPLICATION_ROLE_LABEL } from '../meta.js';
import { cacheServiceName, MAX_STATEFULSET_NAME } from '../names.js';
import type { K8sObject } from '../types.js';
import { buildCache } from './index.js';

const objects = (...mods: Parameters<typeof buildContext>) => buildCache(buildContext(...mods));
const key = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;
const sts = (os: K8sObject[]) =>
  os.find((o) => o.kind === 'StatefulSet')!.spec as NonNullable<V1StatefulSet['spec']>;
const conf = (os: K8sObject[]) =>
  (os.find((o) => o.kind === 'ConfigMap')!.data as Record<string, string>)['redis.conf']!;
const pod = (os: K8sObject[]) => sts(os).template.spec!;

describe('buildCache', () => {
  it.each([
    ['no cache section', []],
    ['a disabled cache', [withCache({ enabled: false })]],
  ])('builds nothing for %s', (_name, mods) => {
    expect(objects(...mods)).toEqual([]);
  });

  it('builds the config, a headless and a client Service, and one StatefulSet', () => {
    expect(objects(withCache()).map(key)).toEqual([
      'ConfigMap/shop-cache-config',
      'Service/shop-cache-headless',
      'Service/shop-cache',
      'StatefulSet/shop-cache',
    ]);
  });

  it('serves clients on <app>-cache:6379, the name the binding uses', () => {
    const os = objects(withCache());
    const client = os.find((o) => key(o) === `Service/${cacheServiceName(buildContext().app)}`)!;
    expect(client.spec).toMatchObject({ type: 'ClusterIP', ports: [{ port: 6379, targetPort: 'redis' }] });
    expect(os.find((o) => key(o) === 'Service/shop-cache-headless')!.spec).toMatchObject({
      clusterIP: 'None',
    });
    expect(sts(os).serviceName).toBe('shop-cache-headless');
  });

  it.each([
    ['none', ['save ""', 'appendonly no'], ['appendonly yes']],
    ['rdb', ['save 3600 1', 'save 300 100', 'save 60 10000', 'appendonly no'], ['save ""', 'appendonly yes']],
    ['aof', ['appendonly yes', 'appendfsync everysec', 'save ""'], ['appendonly no']],
  ])('writes persistence %s into redis.conf', (persistence, present, absent) => {
    const lines = conf(objects(withCache({ persistence }))).split('\n');
    for (const line of present) expect(lines).toContain(line);
    for (const line of absent) expect(lines).not.toContain(line);
  });

  it('writes maxmemory and the eviction policy into redis.conf', () => {
    const lines = conf(objects(withCache({ maxMemory: '1gb', evictionPolicy: 'volatile-ttl' }))).split('\n');
    expect(lines).toEqual(expect.arrayContaining(['maxmemory 1gb', 'maxmemory-policy volatile-ttl']));
  });

  it('runs one pod of the spec image with the generated config and the ping probes', () => {
    const os = objects(withCache({ image: 'redis:7.2.5' }));
    const [container] = pod(os).containers;
    expect(sts(os).replicas).toBe(1);
    expect(container).toMatchObject({
      image: 'redis:7.2.5',
      command: ['sh', '/etc/redis/start.sh', '/etc/redis/redis.conf'],
      workingDir: '/data',
      readinessProbe: { exec: { command: ['sh', '/etc/redis/ping.sh', 'ready'] } },
      livenessProbe: { exec: { command: ['sh', '/etc/redis/ping.sh', 'alive'] } },
    });
    expect(pod(os).volumes).toContainEqual({ name: 'config', configMap: { name: 'shop-cache-config' } });
  });

  it('reads the Redis password, and only that, from the credentials Secret; no password is in the objects', () => {
    const os = objects(withCache());
    const ref = { secretKeyRef: { name: 'shop-credentials', key: 'REDIS_PASSWORD' } };
    expect(pod(os).containers[0]!.env).toEqual([
      { name: 'REDIS_PASSWORD', valueFrom: ref },
      { name: 'REDISCLI_AUTH', valueFrom: ref },
      { name: 'PRIMARY_HOST', value: 'shop-cache' },
      { name: 'PRIMARY_PORT', value: '6379' },
    ]);
    expect(JSON.stringify(os)).not.toContain(TEST_CREDENTIALS.cachePassword);
    expect(conf(os)).not.toMatch(/^requirepass/m);
  });

  it('runs under the restricted Pod Security Standard as uid 999', () => {
    const spec = pod(objects(withCache()));
    expect(spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 999,
      runAsGroup: 999,
      fsGroup: 999,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(spec.containers[0]!.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
  });

  it('mounts no service account token: Redis never talks to the API server', () => {
    expect(pod(objects(withCache())).automountServiceAccountToken).toBe(false);
  });

  it('passes the resources through', () => {
    const resources = { requests: { cpu: '100m', memory: 300_000_000 }, limits: { memory: '512Mi' } };
    expect(pod(objects(withCache({ resources }))).containers[0]!.resources).toEqual({
      requests: { cpu: '100m', memory: '300000000' },
      limits: { memory: '512Mi' },
    });
  });

  it.each([
    ['without a database', [], 'Retain'],
    ['with a retained database', [withDatabase({ deletionPolicy: 'Retain' })], 'Retain'],
    ['with a deleted database', [withDatabase({ deletionPolicy: 'Delete' })], 'Delete'],
  ])("claims a volume that follows the database's deletion policy %s", (_name, mods, whenDeleted) => {
    const spec = sts(objects(withCache({ storage: { size: '5Gi', storageClassName: 'fast' } }), ...mods));
    expect(spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted, whenScaled: 'Retain' });
    expect(spec.volumeClaimTemplates).toEqual([
      {
        metadata: { name: 'data' },
        spec: {
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: '5Gi' } },
          storageClassName: 'fast',
        },
      },
    ]);
  });

  it('leaves an empty storageClassName out (the cluster default)', () => {
    const spec = sts(objects(withCache({ storage: { size: '1Gi', storageClassName: '' } })));
    expect(spec.volumeClaimTemplates![0]!.spec).not.toHaveProperty('storageClassName');
  });

  it('keeps data in an emptyDir, with no claim, without persistence', () => {
    const os = objects(withCache({ persistence: 'none' }));
    expect(sts(os)).not.toHaveProperty('volumeClaimTemplates');
    expect(sts(os)).not.toHaveProperty('persistentVolumeClaimRetentionPolicy');
    expect(pod(os).volumes).toContainEqual({ name: 'data', emptyDir: {} });
  });

  it('builds no PodDisruptionBudget for its single pod', () => {
    expect(objects(withCache()).map((o) => o.kind)).not.toContain('PodDisruptionBudget');
  });

  describe('with replicas', () => {
    const single = objects(withCache());
    const replicated = objects(withCache({ replicas: 2 }));
    const spec = (os: K8sObject[], name: string) =>
      os.find((o) => key(o) === `Service/${name}`)!.spec as NonNullable<V1Service['spec']>;
    const clientService = (os: K8sObject[]) => spec(os, 'shop-cache');
    const headless = (os: K8sObject[]) => spec(os, 'shop-cache-headless');

    it('runs the primary and its replicas in the one StatefulSet, whose name, selector and volume stay', () => {
      expect(sts(replicated).replicas).toBe(3);
      expect(key(replicated.find((o) => o.kind === 'StatefulSet')!)).toBe('StatefulSet/shop-cache');
      expect(sts(replicated).selector).toEqual(sts(single).selector);
      expect(sts(replicated).volumeClaimTemplates).toEqual(sts(single).volumeClaimTemplates);
    });

    it('points the client Service at the pod the operator labels primary; the headless Service at every pod', () => {
      expect(clientService(replicated).selector).toEqual({
        ...sts(single).selector!.matchLabels,
        [REPLICATION_ROLE_LABEL]: 'primary',
      });
      expect(headless(replicated).selector).toEqual(sts(single).selector!.matchLabels);
      expect(headless(replicated)).toMatchObject({ publishNotReadyAddresses: true });
    });

    it('keeps a single Redis selected by the client Service, labeled or not', () => {
      expect(clientService(single).selector).toEqual(sts(single).selector!.matchLabels);
    });

    it('leaves the role label out of the pod template: the operator sets it on the pod', () => {
      expect(sts(replicated).template.metadata!.labels).not.toHaveProperty(REPLICATION_ROLE_LABEL);
    });

    it('lets a drain take one Redis at a time', () => {
      const budget = replicated.find((o) => o.kind === 'PodDisruptionBudget')!;
      expect(key(budget)).toBe('PodDisruptionBudget/shop-cache');
      expect(budget.spec).toEqual({
        maxUnavailable: 1,
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
        selector: sts(single).selector,
      });
    });

    it('matches the snapshot', () => {
      expect(replicated.filter((o) => o.kind !== 'ConfigMap')).toMatchSnapshot();
    });
  });

  it('rolls the pod when the config changes, and only then', () => {
    const hash = (os: K8sObject[]) => sts(os).template.metadata!.annotations![CONFIG_HASH_ANNOTATION];
    const before = hash(objects(withCache({ maxMemory: '256mb' })));
    expect(hash(objects(withCache({ maxMemory: '256mb', image: 'redis:8' })))).toBe(before);
    expect(hash(objects(withCache({ maxMemory: '512mb' })))).not.toBe(before);
  });

  it('keeps the StatefulSet name short for a long app name', () => {
    const name = key(objects(withName('x'.repeat(63)), withCache()).find((o) => o.kind === 'StatefulSet')!);
    expect(name.length - 'StatefulSet/'.length).toBeLessThanOrEqual(MAX_STATEFULSET_NAME);
  });

  it('matches the snapshot', () => {
    expect(objects(withCache({ resources: { limits: { memory: '512Mi' } } }))).toMatchSnapshot();
  });
});

describe('buildCache errors', () => {
  it.each([
    ['256mb', '256Mi', /spec\.cache\.maxMemory: 256mb must be below resources\.limits\.memory \(256Mi\)/],
    ['1gb', '512Mi', /spec\.cache\.maxMemory: 1gb must be below/],
    ['300m', 300_000_000, /spec\.cache\.maxMemory: 300m must be below/],
  ])('refuses maxMemory %s with a memory limit of %p', (maxMemory, memory, message) => {
    expect(() => objects(withCache({ maxMemory, resources: { limits: { memory } } }))).toThrow(message);
  });

  it('accepts maxMemory below the memory limit', () => {
    expect(() =>
      objects(withCache({ maxMemory: '400mb', resources: { limits: { memory: '512Mi' } } })),
    ).not.toThrow();
  });

  it('names metadata.name when the app has none', () => {
    const ctx = editedContext((app) => delete app.metadata.name, withCache());
    expect(() => buildCache(ctx)).toThrow(/^metadata\.name: is required/);
  });
});
