// Readiness of one workload (Deployment or StatefulSet) from its live status, as a user would judge it.
export interface WorkloadState {
  exists: boolean;
  ready: boolean;
  /** A rollout is still converging (not a failure). */
  progressing: boolean;
  /** A failure the user must act on, e.g. ProgressDeadlineExceeded. */
  failed: boolean;
  desired: number;
  readyReplicas: number;
  replicas: number;
  message: string;
}

interface WorkloadLike {
  kind?: string;
  metadata?: { name?: string; generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

export function workloadState(live: WorkloadLike | undefined, name: string): WorkloadState {
  if (!live) {
    return {
      exists: false,
      ready: false,
      progressing: true,
      failed: false,
      desired: 0,
      readyReplicas: 0,
      replicas: 0,
      message: `${name} does not exist yet`,
    };
  }
  const desired = live.spec?.replicas ?? 1;
  const st = live.status ?? {};
  const observed = (st.observedGeneration ?? 0) >= (live.metadata?.generation ?? 0);
  const readyReplicas = st.readyReplicas ?? 0;
  const replicas = st.replicas ?? 0;
  const updated = st.updatedReplicas ?? 0;
  const revisionsSettled =
    live.kind !== 'StatefulSet' ||
    !st.updateRevision ||
    st.currentRevision === st.updateRevision ||
    desired === 0;
  const ready =
    observed && readyReplicas >= desired && updated >= desired && replicas === desired && revisionsSettled;
  const deadline = st.conditions?.find(
    (c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded',
  );
  const failure = st.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  const failed = !ready && (deadline !== undefined || failure !== undefined);
  let message = `${name}: ${readyReplicas}/${desired} ready`;
  if (!observed) message += ', spec change not yet observed';
  else if (!ready && updated < desired) message += `, ${updated}/${desired} updated`;
  if (deadline) message += ` (${deadline.message ?? 'progress deadline exceeded'})`;
  if (failure) message += ` (${failure.message ?? failure.reason ?? 'replica failure'})`;
  return {
    exists: true,
    ready,
    progressing: !ready && !failed,
    failed,
    desired,
    readyReplicas,
    replicas,
    message,
  };
}
