// What the informer caches keep of each object: only what the controller reads (controller-runtime's cache
// transforms, e.g. TransformStripManagedFields). Every kind loses kubectl's last-applied-configuration
// annotation and the managedFields entries of other managers: drift detection (drift.ts, apply.ts) reads only
// the entries of our own field manager, to find fields we own but no longer want. Owned objects keep their
// status: readiness and ExposureReady read it (a Deployment's ready replicas, the address an Ingress controller
// wrote, the parent statuses a Gateway's controller wrote on an HTTPRoute). Data-tier Pods keep only what the
// replication monitor and the event mapping read: identity, labels, annotations, owners, deletion, the pod IP
// and the conditions.
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../builders/meta.js';
import { DATA_TIER_POD, type ResourceType } from '../kube/resources.js';

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

export type CacheTransform = (obj: KubernetesObject) => KubernetesObject;

/** Drops the managedFields entries of every manager but `manager`, and the last-applied annotation (in place). */
export function stripForeignMetadata(manager: string): CacheTransform {
  return (obj) => {
    const metadata = obj.metadata;
    if (!metadata) return obj;
    if (metadata.managedFields) {
      const ours = metadata.managedFields.filter((e) => e.manager === manager);
      if (ours.length > 0) metadata.managedFields = ours;
      else delete metadata.managedFields;
    }
    if (metadata.annotations?.[LAST_APPLIED_ANNOTATION] !== undefined) {
      const { [LAST_APPLIED_ANNOTATION]: _, ...rest } = metadata.annotations;
      if (Object.keys(rest).length > 0) metadata.annotations = rest;
      else delete metadata.annotations;
    }
    return obj;
  };
}

/** A data-tier Pod reduced to what the replication monitor reads (replication-groups.ts, replication-monitor.ts). */
export const podForMonitor: CacheTransform = (obj) => {
  const pod = stripForeignMetadata(FIELD_MANAGER)(obj) as V1Pod;
  const m = pod.metadata ?? {};
  return {
    apiVersion: pod.apiVersion,
    kind: pod.kind,
    metadata: defined({
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion, // the informer resumes its watch from the last one it saw
      labels: m.labels,
      annotations: m.annotations,
      ownerReferences: m.ownerReferences,
      deletionTimestamp: m.deletionTimestamp,
    }),
    status: defined({ podIP: pod.status?.podIP, conditions: pod.status?.conditions }),
  };
};

/** `o` without its undefined properties (each would still take a slot in every cached object). */
const defined = <O extends object>(o: O): O =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as O;

/** The transform the controller's informer of `type` applies to every object it stores. */
export const cacheTransformFor = (type: ResourceType): CacheTransform =>
  type === DATA_TIER_POD ? podForMonitor : stripForeignMetadata(FIELD_MANAGER);
