// The kinds the operator reads and writes, and their REST paths.
import { API_VERSION, KIND, PLURAL } from '../api/v1alpha1/index.js';

export interface ResourceType {
  apiVersion: string;
  kind: string;
  plural: string;
  /** Owned kinds are watched by label and pruned when no longer desired. */
  owned: boolean;
  /** Watched with this label selector (owned kinds: the managed-by label). */
  selector?: string;
}

export const SCALABLE_APP: ResourceType = {
  apiVersion: API_VERSION,
  kind: KIND,
  plural: PLURAL,
  owned: false,
};

export const OWNED_TYPES: readonly ResourceType[] = [
  { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', owned: true },
  { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', owned: true },
  { apiVersion: 'v1', kind: 'Service', plural: 'services', owned: true },
  { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', owned: true },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', plural: 'statefulsets', owned: true },
  {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    plural: 'horizontalpodautoscalers',
    owned: true,
  },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', owned: true },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', plural: 'networkpolicies', owned: true },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', plural: 'ingresses', owned: true },
];

/** Owned kinds that exist only when their CRD is installed (the operator watches them if it is). */
export const OPTIONAL_OWNED_TYPES: readonly ResourceType[] = [
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', plural: 'httproutes', owned: true },
];

/** Database and Redis pods: the replication monitor reads their addresses, readiness and role labels here. */
export const DATA_TIER_POD: ResourceType = {
  apiVersion: 'v1',
  kind: 'Pod',
  plural: 'pods',
  owned: false,
  selector:
    'app.kubernetes.io/managed-by=scalable-app-operator,app.kubernetes.io/component in (database,cache)',
};

/** A database pod's volume claim: deleted to copy an old primary again (replication-monitor.ts). */
export const VOLUME_CLAIM: ResourceType = {
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  plural: 'persistentvolumeclaims',
  owned: false,
};

export const LEASE: ResourceType = {
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  plural: 'leases',
  owned: false,
};

export const EVENT: ResourceType = { apiVersion: 'v1', kind: 'Event', plural: 'events', owned: false };

const byKind = new Map(
  [...OWNED_TYPES, ...OPTIONAL_OWNED_TYPES, SCALABLE_APP, DATA_TIER_POD, LEASE, EVENT].map((t) => [
    t.kind,
    t,
  ]),
);

export function resourceFor(apiVersion: string, kind: string): ResourceType {
  const t = byKind.get(kind);
  if (!t || t.apiVersion !== apiVersion) throw new Error(`unknown resource ${apiVersion} ${kind}`);
  return t;
}

/** The collection path, cluster-wide when namespace is undefined. */
export function collectionPath(t: ResourceType, namespace?: string): string {
  const base = t.apiVersion.includes('/') ? `/apis/${t.apiVersion}` : `/api/${t.apiVersion}`;
  return namespace ? `${base}/namespaces/${namespace}/${t.plural}` : `${base}/${t.plural}`;
}

export const objectPath = (t: ResourceType, namespace: string, name: string) =>
  `${collectionPath(t, namespace)}/${encodeURIComponent(name)}`;

/** A stable key for an object: apiVersion/kind/namespace/name. */
export const objectKey = (o: {
  apiVersion?: string;
  kind?: string;
  metadata?: { namespace?: string; name?: string };
}) => `${o.apiVersion}/${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
