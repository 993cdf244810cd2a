// PodDisruptionBudgets of the stateless tiers (web, workers): voluntary disruptions (node drains, cluster
// upgrades) evict at most one pod of a tier at a time.
import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import type { ScalableApp } from '../../api/v1alpha1/index.js';
import { type Component, objectMeta, selectorLabels } from '../meta.js';
import type { BuildContext, K8sObject } from '../types.js';
import { webName, workersName } from '../names.js';
import { enabledWorkers } from '../workers/deployment.js';

export type PodDisruptionBudget = V1PodDisruptionBudget & K8sObject;

/**
 * `maxUnavailable: 1` rather than `minAvailable: 1`: it follows the replica count the HPA chooses (one pod at a
 * time of 2 or of 50, where minAvailable 1 would let 49 of 50 go at once), and it never blocks a drain forever
 * (minAvailable 1 with a single replica allows no eviction at all). `AlwaysAllow` lets a drain evict pods
 * that are not ready anyway, instead of stalling on a crash-looping pod.
 */
function podDisruptionBudget(app: ScalableApp, component: Component, name: string): PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: objectMeta(app, component, name),
    spec: {
      maxUnavailable: 1,
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
      selector: { matchLabels: selectorLabels(app, component) },
    },
  };
}

export const buildWebPdb = ({ app }: BuildContext): PodDisruptionBudget =>
  podDisruptionBudget(app, 'web', webName(app));

export const buildWorkersPdb = ({ app }: BuildContext): PodDisruptionBudget | undefined =>
  enabledWorkers(app) ? podDisruptionBudget(app, 'workers', workersName(app)) : undefined;
