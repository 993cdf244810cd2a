// The cache tier: Redis, a primary and spec.cache.replicas replicas (a StatefulSet with its config, a headless
// and a client Service).
//
// The client Service (<app>-cache, in the binding's REDIS_URL) follows the primary: with replicas it selects the
// pod the operator labels primary (REPLICATION_ROLE_LABEL), and moves when the operator promotes a replica.
// Without replicas it selects the single pod, labeled or not. The headless Service selects every pod, ready or
// not: it gives each its DNS name, where the operator and the other servers reach it.
//
// Disruption budget: with replicas, maxUnavailable 1, so a drain takes one Redis at a time and the operator
// promotes a replica if that one was the primary. A single pod gets none: for one pod, minAvailable 1 blocks
// every node drain forever and maxUnavailable 1 allows everything. A drain restarts a single Redis on another
// node with its volume (AOF), which is the availability a single Redis has.
import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import type { CacheSpec, ScalableApp } from '../../api/v1alpha1/index.js';
import { requireIdentity, service } from '../data-tier/stateful.js';
import { REDIS_PORT } from '../endpoints.js';
import { objectMeta, REPLICATION_ROLE_LABEL, type ReplicationRole, selectorLabels } from '../meta.js';
import { type CacheNames, cacheNames } from '../names.js';
import { type BuildContext, BuildError, type K8sObject } from '../types.js';
import { cacheConfigData } from './config.js';
import { quantityBytes, redisBytes } from './memory.js';
import { cacheStatefulSet } from './statefulset.js';

/** Redis must evict before the container reaches its memory limit, or the kernel kills it instead. */
function checkMaxMemory(cache: CacheSpec): void {
  const limit = cache.resources?.limits?.memory;
  if (limit === undefined) return;
  const max = redisBytes(cache.maxMemory);
  const bytes = quantityBytes(limit);
  if (max !== undefined && bytes !== undefined && max >= bytes) {
    throw new BuildError(
      'spec.cache.maxMemory',
      `${cache.maxMemory} must be below resources.limits.memory (${limit}): Redis would be killed for memory before it evicts a key`,
    );
  }
}

function disruptionBudget(app: ScalableApp, cache: CacheSpec, names: CacheNames): K8sObject[] {
  if (cache.replicas === 0) return [];
  const spec: V1PodDisruptionBudget['spec'] = {
    maxUnavailable: 1,
    // A Redis that is not ready (e.g. a replica whose primary is gone) may always be evicted.
    unhealthyPodEvictionPolicy: 'AlwaysAllow',
    selector: { matchLabels: selectorLabels(app, 'cache') },
  };
  return [
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: objectMeta(app, 'cache', names.statefulSet),
      spec,
    },
  ];
}

/** The Redis objects of an app; empty when the cache is absent or disabled. */
export function buildCache({ app }: BuildContext): K8sObject[] {
  const cache = app.spec.cache;
  if (!cache?.enabled) return [];
  requireIdentity(app);
  checkMaxMemory(cache);
  const names = cacheNames(app);
  const data = cacheConfigData(cache);
  const selector = selectorLabels(app, 'cache');
  const port = { port: REDIS_PORT, portName: 'redis', component: 'cache', selector } as const;
  const primary: Record<string, ReplicationRole> = { [REPLICATION_ROLE_LABEL]: 'primary' };
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: objectMeta(app, 'cache', names.config), data },
    service(app, { ...port, name: names.headless, headless: true }),
    service(app, {
      ...port,
      name: names.client,
      selector: cache.replicas > 0 ? { ...selector, ...primary } : selector,
    }),
    cacheStatefulSet(app, cache, names, data),
    ...disruptionBudget(app, cache, names),
  ];
}
