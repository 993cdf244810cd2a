import { describe, expect, it } from '@jest/globals';
import {
  scalableApp,
  withAutoscaling,
  withCache,
  withDatabase,
  withWorkers,
} from '../../../test/fixtures/scalable-app.js';
import { parseScalableApp } from './parse.js';
import type { ScalableApp } from './index.js';

const parsed = (app: unknown): ScalableApp => {
  const result = parseScalableApp(app);
  if (!result.ok) throw new Error(result.message);
  return result.value;
};

describe('defaults', () => {
  it('a web-only app gets two pods, a ClusterIP Service without affinity, and no data tier', () => {
    const { spec } = parsed(scalableApp());
    expect(spec).toEqual({
      paused: false,
      web: {
        image: 'scalable-shop:0.1.0',
        port: 8080,
        replicas: 2,
        resources: { requests: { cpu: '100m', memory: '128Mi' } },
        env: [],
        healthCheck: { livenessPath: '/healthz', readinessPath: '/readyz', periodSeconds: 10 },
      },
      exposure: {
        type: 'Service',
        serviceType: 'ClusterIP',
        servicePort: 80,
        sessionAffinity: 'None',
        affinityTimeoutSeconds: 10800,
        cookieName: 'SAPP_AFFINITY',
      },
    });
  });

  it('an empty autoscaling section means enabled, 2 to 10 replicas at 70% CPU', () => {
    expect(parsed(scalableApp(withAutoscaling())).spec.web.autoscaling).toEqual({
      enabled: true,
      minReplicas: 2,
      maxReplicas: 10,
      targetCPUUtilizationPercentage: 70,
    });
  });

  it('an empty cache section means one Redis 7.4 (no replicas) with AOF, 256mb and LRU eviction on 1Gi', () => {
    expect(parsed(scalableApp(withCache())).spec.cache).toEqual({
      enabled: true,
      image: 'redis:7.4',
      maxMemory: '256mb',
      evictionPolicy: 'allkeys-lru',
      persistence: 'aof',
      replicas: 0,
      storage: { size: '1Gi' },
    });
  });

  it('an empty database section means unsharded MySQL with two replicas, retained on deletion', () => {
    expect(parsed(scalableApp(withDatabase())).spec.database).toEqual({
      enabled: true,
      engine: 'mysql',
      image: '',
      databaseName: 'app',
      replicas: 2,
      shards: { count: 0, replicasPerShard: 1, moveBatchBuckets: 32 },
      failover: { unreachableSeconds: 10, minSecondsBetweenFailovers: 60 },
      storage: { size: '10Gi' },
      deletionPolicy: 'Retain',
    });
  });

  it('workers default to one replica with their own requests', () => {
    expect(parsed(scalableApp(withWorkers())).spec.workers).toMatchObject({
      enabled: true,
      command: ['node', 'worker.js'],
      replicas: 1,
      resources: { requests: { cpu: '100m' } },
    });
  });

  it('explicit values win over defaults', () => {
    const { spec } = parsed(
      scalableApp(withDatabase({ engine: 'mariadb', replicas: 0, shards: { count: 4 } })),
    );
    expect(spec.database).toMatchObject({
      engine: 'mariadb',
      replicas: 0,
      shards: { count: 4, replicasPerShard: 1 },
    });
  });
});
