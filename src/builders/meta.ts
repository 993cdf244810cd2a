// Labels, selectors, owner references and object metadata shared by every builder.
import { API_VERSION, KIND, type ScalableApp } from '../api/v1alpha1/index.js';
import type { ObjectMeta, OwnerReference } from './types.js';

export const MANAGED_BY = 'scalable-app-operator';
export const FIELD_MANAGER = 'scalable-app-operator';
/** Label on every owned object: the operator's informers select on it. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const INSTANCE_LABEL = 'app.kubernetes.io/instance';
export const COMPONENT_LABEL = 'app.kubernetes.io/component';
export const NAME_LABEL = 'app.kubernetes.io/name';
export const PART_OF_LABEL = 'app.kubernetes.io/part-of';
/** The StatefulSet a database pod belongs to: primary or replica (part of immutable selectors, never moves). */
export const ROLE_LABEL = 'scalable.dev/role';
/**
 * What a data-tier pod serves as right now, primary or replica: set by the operator on the pod (roles move
 * on failover), and what the write and read Services select.
 */
export const REPLICATION_ROLE_LABEL = 'scalable.dev/replication-role';
export type ReplicationRole = 'primary' | 'replica';
/** Shard index of a database object ("main" for the unsharded database). */
export const SHARD_LABEL = 'scalable.dev/shard';

export type Component = 'web' | 'cache' | 'database' | 'workers' | 'binding' | 'exposure';

/** The labels that select the pods of a component (stable: they are part of immutable selectors). */
export function selectorLabels(app: ScalableApp, component: Component, extra: Record<string, string> = {}) {
  return {
    [NAME_LABEL]:
      component === 'cache'
        ? 'redis'
        : component === 'database'
          ? (app.spec.database?.engine ?? 'mysql')
          : app.metadata.name!,
    [INSTANCE_LABEL]: app.metadata.name!,
    [COMPONENT_LABEL]: component,
    ...extra,
  };
}

/** All standard labels of an object of a component. */
export function labels(app: ScalableApp, component: Component, extra: Record<string, string> = {}) {
  return {
    ...selectorLabels(app, component, extra),
    [PART_OF_LABEL]: app.metadata.name!,
    [MANAGED_BY_LABEL]: MANAGED_BY,
  };
}

export function ownerReference(app: ScalableApp): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: app.metadata.name!,
    uid: app.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Metadata of an owned object: name, namespace, standard labels and the owner reference. */
export function objectMeta(
  app: ScalableApp,
  component: Component,
  name: string,
  opts: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): ObjectMeta {
  return {
    name,
    namespace: app.metadata.namespace!,
    labels: labels(app, component, opts.labels),
    ...(opts.annotations ? { annotations: opts.annotations } : {}),
    ownerReferences: [ownerReference(app)],
  };
}
