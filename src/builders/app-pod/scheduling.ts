// How the replicas of an app pod spread over the nodes.
import type { V1TopologySpreadConstraint } from '@kubernetes/client-node';

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
