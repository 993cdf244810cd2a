// The app's pods as the plugin shows and picks them: grouped by tier (web, workers, each database replication
// group, the cache), each with the replication role the operator labels it with, and the pod a client session
// goes to (the primary of a group, or one of its replicas).
import type { V1Pod } from '@kubernetes/client-node';
import {
  COMPONENT_LABEL,
  INSTANCE_LABEL,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  REPLICATION_ROLE_LABEL,
  SHARD_LABEL,
} from '../builders/meta.js';

export type Tier = 'web' | 'workers' | 'database' | 'cache';
export const TIERS: readonly Tier[] = ['web', 'workers', 'database', 'cache'];

/** The label selector of every pod of the app `name`. */
export const appPodSelector = (name: string) => `${INSTANCE_LABEL}=${name},${MANAGED_BY_LABEL}=${MANAGED_BY}`;

/** The database group of the unsharded database, as its pods' shard label says. */
export const MAIN_GROUP = 'main';

const label = (pod: V1Pod, key: string) => pod.metadata?.labels?.[key];
const byName = (a: V1Pod, b: V1Pod) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');

export const podName = (pod: V1Pod) => pod.metadata?.name ?? '';
export const tierOf = (pod: V1Pod): Tier | undefined => {
  const c = label(pod, COMPONENT_LABEL);
  return TIERS.find((t) => t === c);
};
/** What the pod serves as now, from the operator's label: primary, replica, or undefined before it labelled it. */
export const roleOf = (pod: V1Pod): string | undefined => label(pod, REPLICATION_ROLE_LABEL);
/** A database pod's group: "main" or the shard index. */
export const groupOf = (pod: V1Pod): string => label(pod, SHARD_LABEL) ?? MAIN_GROUP;
export const isReady = (pod: V1Pod) =>
  (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
const isLeaving = (pod: V1Pod) => Boolean(pod.metadata?.deletionTimestamp);

/** The pods of one tier, by name. */
export const podsOf = (pods: readonly V1Pod[], tier: Tier): V1Pod[] =>
  pods.filter((p) => tierOf(p) === tier).sort(byName);

/** The database pods by group, main first, then the shards in index order. */
export function databaseGroups(pods: readonly V1Pod[]): Map<string, V1Pod[]> {
  const groups = new Map<string, V1Pod[]>();
  for (const pod of podsOf(pods, 'database')) {
    const g = groupOf(pod);
    groups.set(g, [...(groups.get(g) ?? []), pod]);
  }
  const order = (g: string) => (g === MAIN_GROUP ? -1 : Number(g));
  return new Map([...groups].sort(([a], [b]) => order(a) - order(b)));
}

export interface Pick {
  /** The pods to choose from (one tier, or one database group). */
  pods: readonly V1Pod[];
  want: 'primary' | 'replica';
  /** The primary status records (database groups only): used when no pod carries the primary label yet. */
  recordedPrimary?: string;
  /** For messages: "database group main", "cache". */
  what: string;
}

/** Thrown when no pod fits; the message says why and what to do. */
export class NoPodError extends Error {
  override name = 'NoPodError';
}

/**
 * The pod a client session goes to. The primary is the pod labelled primary (what the write Service selects);
 * while two are (a failover relabelling), the one status records; before any is labelled, the recorded one.
 * A replica is a pod labelled replica, ready ones first, then by name. Pods being deleted are never chosen.
 */
export function pickPod({ pods, want, recordedPrimary, what }: Pick): V1Pod {
  const live = pods.filter((p) => !isLeaving(p));
  const labelled = live.filter((p) => roleOf(p) === want).sort(byName);
  if (want === 'replica') {
    const pod = labelled.find(isReady) ?? labelled[0];
    if (!pod) throw new NoPodError(`${what} has no replica pod (pods: ${names(live)})`);
    return pod;
  }
  const recorded = live.find((p) => podName(p) === recordedPrimary);
  if (labelled.length === 1) return labelled[0]!;
  if (labelled.length > 1) return recorded && roleOf(recorded) === 'primary' ? recorded : labelled[0]!;
  if (recorded) return recorded;
  throw new NoPodError(
    `${what} has no pod labelled ${REPLICATION_ROLE_LABEL}=primary yet (pods: ${names(live)}): the operator labels the primary once it knows it`,
  );
}

const names = (pods: readonly V1Pod[]) => (pods.length ? pods.map(podName).join(', ') : 'none');
