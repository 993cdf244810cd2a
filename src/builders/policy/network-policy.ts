// NetworkPolicies of the data tier: Redis and the database accept connections only from the app's own pods.
// The web tier's ingress is not restricted (its clients are the load balancers and proxies of the cluster).
import type { ScalableApp } from '../../api/v1alpha1/index.js';
import { MYSQL_PORT, REDIS_PORT } from '../endpoints.js';
import { type Component, objectMeta, selectorLabels } from '../meta.js';
import { networkPolicyName } from '../names.js';
import type { BuildContext, K8sObject } from '../types.js';

interface PodSelectorPeer {
  podSelector: { matchLabels: Record<string, string> };
  namespaceSelector?: Record<string, never>;
}

/**
 * The operator's pods, in whatever namespace it runs: its replication monitor connects to every database server
 * (with its own account) to check, fence and promote. The chart labels its pods so.
 */
export const OPERATOR_PEER: PodSelectorPeer = {
  namespaceSelector: {},
  podSelector: {
    matchLabels: {
      'app.kubernetes.io/name': 'scalable-app-operator',
      'app.kubernetes.io/component': 'operator',
    },
  },
};

/** networking.k8s.io/v1 NetworkPolicy, the part used here (client-node's model names `from` as `_from`). */
export interface NetworkPolicy extends K8sObject {
  spec: {
    podSelector: { matchLabels: Record<string, string> };
    policyTypes: ['Ingress'];
    ingress: { from: PodSelectorPeer[]; ports: { protocol: 'TCP'; port: number }[] }[];
  };
}

const podsOf = (app: ScalableApp, component: Component): PodSelectorPeer => ({
  podSelector: { matchLabels: selectorLabels(app, component) },
});

function allowFrom(
  app: ScalableApp,
  component: 'cache' | 'database',
  port: number,
  from: Component[],
  extra: PodSelectorPeer[] = [],
): NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: objectMeta(app, component, networkPolicyName(app, component)),
    spec: {
      podSelector: { matchLabels: selectorLabels(app, component) },
      policyTypes: ['Ingress'],
      ingress: [{ from: [...from.map((c) => podsOf(app, c)), ...extra], ports: [{ protocol: 'TCP', port }] }],
    },
  };
}

/**
 * Redis pods accept TCP 6379 from the app's web and workers pods only. The workers peer is there even when
 * workers are off: it matches no pod then, and enabling workers needs no policy change.
 */
export const buildCacheNetworkPolicy = ({ app }: BuildContext): NetworkPolicy | undefined =>
  app.spec.cache?.enabled ? allowFrom(app, 'cache', REDIS_PORT, ['web', 'workers']) : undefined;

/**
 * Database pods accept TCP 3306 from web and workers pods, from each other (replicas reach their primary) and
 * from the operator (failover).
 */
export const buildDatabaseNetworkPolicy = ({ app }: BuildContext): NetworkPolicy | undefined =>
  app.spec.database?.enabled
    ? allowFrom(app, 'database', MYSQL_PORT, ['web', 'workers', 'database'], [OPERATOR_PEER])
    : undefined;
