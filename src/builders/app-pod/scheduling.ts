// What the scheduler sees of an app pod: its resource requests and limits, and how its replicas spread.
import type { V1ResourceRequirements, V1TopologySpreadConstraint } from '@kubernetes/client-node';
import type { WebSpec } from '../../api/v1alpha1/index.js';

type Resources = WebSpec['resources'];

const quantities = (list: Record<string, string | number> | undefined) =>
  list && Object.fromEntries(Object.entries(list).map(([k, v]) => [k, String(v)]));

/** The spec's resources in the container shape (quantities as strings, as the API returns them). */
export function resourceRequirements(resources: Resources): V1ResourceRequirements {
  const requests = quantities(resources.requests);
  const limits = quantities(resources.limits);
  return { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) };
}

/**
 * Spread the replicas across nodes, preferring but not requiring it (ScheduleAnyway): a small cluster still
 * runs every replica. `pod-template-hash` counts only the pods of the current revision during a rollout.
 */
export const spreadAcrossNodes = (selector: Record<string, string>): V1TopologySpreadConstraint[] => [
  {
    maxSkew: 1,
    topologyKey: 'kubernetes.io/hostname',
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: { matchLabels: selector },
    matchLabelKeys: ['pod-template-hash'],
  },
];
