// Where the mover finds each database group of an app: the pod the replication monitor labelled primary, and
// the ready replicas, read from the pod cache. A group without a ready, labelled primary is named, so the
// resharding waits for it (a new shard's group is still starting) instead of failing.
import type { V1Pod } from '@kubernetes/client-node';
import type { ScalableApp } from '../api/v1alpha1/index.js';
import { APP_USER } from '../builders/credentials.js';
import { groups } from '../builders/database/groups.js';
import { MYSQL_PORT } from '../builders/endpoints.js';
import { COMPONENT_LABEL, INSTANCE_LABEL, REPLICATION_ROLE_LABEL, SHARD_LABEL } from '../builders/meta.js';
import type { Credentials } from '../builders/types.js';
import type { Endpoints, HostPort, Topology } from '../resharding/pass.js';

/** How the operator reaches a database pod: its IP and the MySQL port (tests map pods to local servers). */
export type PodAddress = (pod: V1Pod) => HostPort | undefined;

export const podAddress: PodAddress = (pod) =>
  pod.status?.podIP ? { host: pod.status.podIP, port: MYSQL_PORT } : undefined;

const ready = (p: V1Pod) =>
  !p.metadata?.deletionTimestamp &&
  (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** The app's topology, or which group is not reachable yet. */
export function reshardingTopology(
  app: ScalableApp,
  credentials: Credentials,
  pods: readonly V1Pod[],
  address: PodAddress = podAddress,
): { topology: Topology } | { waitingFor: string } {
  const db = app.spec.database!;
  const name = app.metadata.name!;
  const endpoints: Endpoints[] = [];
  for (const group of groups(app, db)) {
    const members = pods.filter((p) => {
      const l = p.metadata?.labels ?? {};
      return (
        l[INSTANCE_LABEL] === name && l[COMPONENT_LABEL] === 'database' && l[SHARD_LABEL] === group.shardLabel
      );
    });
    const label = group.shard === undefined ? 'the main database' : `shard ${group.shard}`;
    const primaryPod = members.find((p) => p.metadata?.labels?.[REPLICATION_ROLE_LABEL] === 'primary');
    const primary = primaryPod && ready(primaryPod) ? address(primaryPod) : undefined;
    if (!primary) return { waitingFor: `${label}: no ready primary yet` };
    const replicas = members
      .filter((p) => p !== primaryPod && ready(p))
      .map(address)
      .filter((a): a is HostPort => a !== undefined);
    endpoints.push({ primary, replicas });
  }
  const [main, ...shards] = endpoints as [Endpoints, ...Endpoints[]];
  return {
    topology: {
      engine: db.engine,
      database: db.databaseName,
      user: APP_USER,
      password: credentials.appPassword,
      main,
      shards,
    },
  };
}

interface DeploymentLike {
  metadata?: { name?: string; generation?: number; labels?: Record<string, string> };
  status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number };
}

/**
 * The app's Deployment still rolling out, if any: its pods may run with a binding from before the shard count
 * changed (no URL for a new shard), so buckets must not move to that shard yet. Undefined when every pod of
 * every Deployment of the app is from its current template.
 */
export function rollingDeployment(app: ScalableApp, deployments: readonly unknown[]): string | undefined {
  for (const d of deployments as DeploymentLike[]) {
    if (d.metadata?.labels?.[INSTANCE_LABEL] !== app.metadata.name) continue;
    const s = d.status ?? {};
    const observed = (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
    if (!observed || (s.updatedReplicas ?? 0) !== (s.replicas ?? 0)) return d.metadata?.name ?? '?';
  }
  return undefined;
}
