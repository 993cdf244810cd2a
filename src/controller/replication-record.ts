// Who is the primary of a replication group, recorded durably where only the replication monitor writes it:
// annotations on the group's primary StatefulSet (the reconciler's apply does not own them and leaves them be).
// Without a record, the group is as its StatefulSets made it: `<primary StatefulSet>-0` is the primary.
import type { FailoverRecord } from '../api/v1alpha1/status.js';

export const PRIMARY_ANNOTATION = 'scalable.dev/primary';
export const LAST_FAILOVER_ANNOTATION = 'scalable.dev/last-failover';
/** Set to "true" on the primary's pod to move the primary to the most advanced replica (planned switchover:
 *  node maintenance, rolling the primary's image). The operator removes it once answered. */
export const DEMOTE_ANNOTATION = 'scalable.dev/demote';
/** The field manager of the monitor's writes (annotations, pod labels). */
export const MONITOR_FIELD_MANAGER = 'scalable-app-operator-failover';

export interface GroupRecord {
  primary: string;
  lastFailover?: FailoverRecord;
}

interface Annotated {
  metadata?: { name?: string; annotations?: Record<string, string> };
}

export function recordOf(primaryStatefulSet: Annotated): GroupRecord {
  const a = primaryStatefulSet.metadata?.annotations ?? {};
  const primary = a[PRIMARY_ANNOTATION] || `${primaryStatefulSet.metadata?.name}-0`;
  let lastFailover: FailoverRecord | undefined;
  try {
    const parsed = JSON.parse(a[LAST_FAILOVER_ANNOTATION] ?? 'null') as FailoverRecord | null;
    if (parsed && typeof parsed.to === 'string') lastFailover = parsed;
  } catch {
    // A hand-edited, unreadable record of the last failover says nothing; the primary annotation decides.
  }
  return { primary, ...(lastFailover ? { lastFailover } : {}) };
}

/** The merge patch that records a failover on the primary StatefulSet. */
export const recordPatch = (failover: FailoverRecord) => ({
  metadata: {
    annotations: {
      [PRIMARY_ANNOTATION]: failover.to,
      [LAST_FAILOVER_ANNOTATION]: JSON.stringify(failover),
    },
  },
});
