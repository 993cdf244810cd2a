// Server-side apply of the desired objects: only those that drifted, each one dry-run first so that an object
// the API server rejects leaves every other object as it was; then the real applies, in order. Autoscaled
// workloads hand `spec.replicas` over to the HPA without a drop to one pod.
import type { Logger } from 'pino';
import { FIELD_MANAGER } from '../builders/meta.js';
import type { K8sObject } from '../builders/types.js';
import type { KubeClient } from '../kube/client.js';
import { ApiError } from '../kube/errors.js';
import { objectKey, objectPath, resourceFor } from '../kube/resources.js';
import { drift, ownedFieldPaths } from './drift.js';

export const APPLY_PATCH = 'application/apply-patch+yaml';
/** Holds `spec.replicas` between our manager letting go of it and the HPA taking it. */
const HANDOVER_MANAGER = 'scalable-app-operator-replicas-handover';

/** The live object of a desired one, if it exists (and is this app's). */
export type LiveLookup = (desired: K8sObject) => Record<string, unknown> | undefined;

export interface Applied {
  /** `Kind/name` of every object applied. */
  applied: string[];
  /** The applied objects that did not exist before. */
  created: string[];
}

/** Why a pass failed, as the Ready and Degraded conditions say it. */
export interface Failure {
  reason: string;
  message: string;
}

class ApplyError extends Error {
  override readonly name = 'ApplyError';
  constructor(
    readonly object: K8sObject,
    override readonly cause: unknown,
  ) {
    super(
      `${object.kind} ${object.metadata.name}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

/**
 * Forbidden (403) and Invalid (422) need a person; any other failure may pass on a retry. An apply answered 404
 * names a kind the cluster does not serve (an apply creates what is missing): an optional kind whose CRD is not
 * installed yet.
 */
export function describeError(err: unknown): Failure {
  const message = err instanceof Error ? err.message : String(err);
  const api = err instanceof ApplyError ? err.cause : err;
  if (!(api instanceof ApiError)) return { reason: 'ReconcileError', message };
  if (err instanceof ApplyError && api.status === 404) {
    const { apiVersion, kind, metadata } = err.object;
    return {
      reason: 'KindNotServed',
      message: `${kind} ${metadata.name}: ${apiVersion} ${kind} is not served by this cluster: is its CRD installed?`,
    };
  }
  return {
    reason: api.status === 403 ? 'Forbidden' : api.status === 422 ? 'Invalid' : 'ApplyFailed',
    message,
  };
}

const name = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;

/** Applies the desired objects that drifted from their live state; nothing at all when one is rejected. */
export async function applyChanged(
  client: KubeClient,
  desired: readonly K8sObject[],
  live: LiveLookup,
  log: Logger,
): Promise<Applied> {
  const changed = desired.filter((o) => {
    const d = drift(o as Record<string, unknown>, live(o), FIELD_MANAGER);
    if (d.changed) log.debug({ object: objectKey(o), reason: d.reason }, 'drift');
    return d.changed;
  });
  const created = changed.filter((o) => !live(o)).map(name); // before the caches see the new objects
  const steps = changed.flatMap((o) => replicasHandover(o, desired, live));
  for (const s of steps) await applyObject(client, s.object, s.manager, true);
  for (const s of steps) await applyObject(client, s.object, s.manager, false);
  return { applied: steps.filter((s) => s.manager === FIELD_MANAGER).map((s) => name(s.object)), created };
}

function applyObject(client: KubeClient, o: K8sObject, manager: string, dryRun: boolean) {
  const type = resourceFor(o.apiVersion, o.kind);
  return client
    .request('PATCH', objectPath(type, o.metadata.namespace!, o.metadata.name), {
      query: { fieldManager: manager, force: true, ...(dryRun ? { dryRun: 'All' } : {}) },
      body: o,
      contentType: APPLY_PATCH,
    })
    .catch((err: unknown) => {
      throw new ApplyError(o, err);
    });
}

interface Step {
  object: K8sObject;
  manager: string;
}

/**
 * The HPA owns `spec.replicas` of an autoscaled workload, so the desired object has none. Dropping a field
 * from an apply deletes it, which would reset the workload to 1 replica; so, as the server-side apply docs
 * advise: a new workload is created at the HPA's minReplicas, and when our manager still owns replicas, the
 * current value is first handed to a separate manager (which the HPA then takes it from).
 */
function replicasHandover(o: K8sObject, desired: readonly K8sObject[], lookup: LiveLookup): Step[] {
  const spec = o.spec as { replicas?: number } | undefined;
  const asIs = [{ object: o, manager: FIELD_MANAGER }];
  if ((o.kind !== 'Deployment' && o.kind !== 'StatefulSet') || spec?.replicas !== undefined) return asIs;
  const live = lookup(o) as
    { spec?: { replicas?: number }; metadata?: { managedFields?: unknown[] } } | undefined;
  if (!live) {
    const min = minReplicas(o, desired);
    return min ? [{ object: { ...o, spec: { ...spec, replicas: min } }, manager: FIELD_MANAGER }] : asIs;
  }
  if (!ownsField(live, ['spec', 'replicas']) || live.spec?.replicas === undefined) return asIs;
  const handover: K8sObject = {
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: { name: o.metadata.name, namespace: o.metadata.namespace },
    spec: { replicas: live.spec.replicas },
  };
  return [{ object: handover, manager: HANDOVER_MANAGER }, ...asIs];
}

/** minReplicas of the desired HPA that scales `workload`, if any. */
function minReplicas(workload: K8sObject, desired: readonly K8sObject[]): number | undefined {
  const hpa = desired.find(
    (h) =>
      h.kind === 'HorizontalPodAutoscaler' &&
      (h.spec as { scaleTargetRef?: { name: string } }).scaleTargetRef?.name === workload.metadata.name,
  );
  return (hpa?.spec as { minReplicas?: number } | undefined)?.minReplicas;
}

const ownsField = (live: { metadata?: { managedFields?: unknown[] } }, path: string[]) =>
  ownedFieldPaths(live.metadata?.managedFields as Parameters<typeof ownedFieldPaths>[0], FIELD_MANAGER).some(
    (p) => p.join('/') === path.join('/'),
  );
