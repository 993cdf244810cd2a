// The cache tier: one Redis (a StatefulSet with its config, a headless and a client Service).
//
// No PodDisruptionBudget: for a single pod, minAvailable 1 blocks every node drain forever and
// maxUnavailable 1 allows everything, so a budget would either break drains or say nothing. A drain restarts
// Redis on another node with its volume (AOF), which is the availability a single Redis has.
import type { CacheSpec } from '../../api/v1alpha1/index.js';
import { requireIdentity, service } from '../data-tier/stateful.js';
import { REDIS_PORT } from '../endpoints.js';
import { objectMeta, selectorLabels } from '../meta.js';
import { cacheNames } from '../names.js';
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
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: objectMeta(app, 'cache', names.config), data },
    service(app, { ...port, name: names.headless, headless: true }),
    service(app, { ...port, name: names.client }),
    cacheStatefulSet(app, cache, names, data),
  ];
}
