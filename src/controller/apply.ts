// Server-side apply of the desired objects: only those that drifted, each one dry-run first so that an object
// the API server rejects leaves every other object as it was; then the real applies, in order. The dry runs also
// say which objects exist (a dry run of a create answers without a resourceVersion), so an object missing from
// the caches is read only when it turns out to exist: it may be someone else's, and then nothing is applied. The
// first apply is not dry-run when its object is known to be this app's: nothing precedes it to be half-applied.
// What the real applies answer is the live object from then on. Autoscaled workloads hand `spec.replicas` over to
// the HPA without a drop to one pod.
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

type LiveObject = Record<string, unknown>;

/** The live objects as one pass sees them (ownership.ts's LiveObjects). */
export interface LiveView {
  /** What is known without a request. */
  known(o: K8sObject): LiveObject | undefined;
  /** Reads the object from the API server (undefined: it does not exist); known from then on. */
  fetch(o: K8sObject): Promise<LiveObject | undefined>;
  /** What the apply of `o` answered: the object as it is now; known from then on. */
  remember(o: K8sObject, answer: LiveObject): void;
  /** Whether an existing object is this app's to change. */
  isOurs(o: LiveObject): boolean;
}

export interface Applied {
  /** `Kind/name` of every object applied. */
  applied: string[];
  /** The applied objects that did not exist before. */
  created: string[];
  /** Objects that exist and are not this app's: when there are any, nothing was applied. */
  foreign: K8sObject[];
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

/**
 * Applies the desired objects that drifted from their live state; nothing at all when one is rejected, or when
 * one exists that is not this app's (each such object is named).
 */
export async function applyChanged(
  client: KubeClient,
  desired: readonly K8sObject[],
  live: LiveView,
  log: Logger,
): Promise<Applied> {
  const lookup: LiveLookup = (o) => live.known(o);
  const read = new Set<string>();
  /** Reads each object from the API server; returns those that exist and are not this app's. */
  const theirs = async (objects: readonly K8sObject[]) => {
    const foreign: K8sObject[] = [];
    for (const o of objects) {
      read.add(objectKey(o));
      const found = await live.fetch(o);
      if (found && !live.isOurs(found)) foreign.push(o);
    }
    return foreign;
  };
  // Cached as someone else's: read again, the cache may lag behind a deletion.
  const cachedForeign = await theirs(desired.filter((o) => isTheirs(lookup(o), live)));
  for (;;) {
    const changed = desired.filter((o) => {
      const d = drift(o as LiveObject, lookup(o), FIELD_MANAGER);
      if (d.changed) log.debug({ object: objectKey(o), reason: d.reason }, 'drift');
      return d.changed;
    });
    const steps = changed.flatMap((o) => replicasHandover(o, desired, lookup));
    // The first apply needs no dry run when its object is known to be this app's: should the API server refuse
    // it, nothing has been applied yet. (A single changed object, as most edits are, costs one request.)
    const first = steps[0];
    const unrehearsed = first && isOurs(lookup(first.object), live) ? first : undefined;
    const rehearsal = await rehearse(
      client,
      steps.filter((s) => s !== unrehearsed),
    );
    const exists = (o: K8sObject) =>
      lookup(o) !== undefined || Boolean(metadataOf(rehearsal.answers.get(objectKey(o))).resourceVersion);
    // Missing from the caches yet there (or its dry run failed): someone else's, or ours and the cache lags.
    const unseen = changed.filter((o) => {
      const key = objectKey(o);
      return !lookup(o) && !read.has(key) && (exists(o) || rehearsal.failed.has(key));
    });
    const foreign = new Set([...cachedForeign, ...(await theirs(unseen))]);
    if (foreign.size) return { applied: [], created: [], foreign: desired.filter((o) => foreign.has(o)) };
    if (rehearsal.error) throw rehearsal.error;
    if (unseen.length) continue; // plan again with what was read (drift and the replicas handover depend on it)
    const created = changed.filter((o) => !exists(o)).map(name); // before the applies' answers are known
    for (const s of steps) live.remember(s.object, await applyObject(client, s, false));
    return {
      applied: steps.filter((s) => s.manager === FIELD_MANAGER).map((s) => name(s.object)),
      created,
      foreign: [],
    };
  }
}

const isTheirs = (o: LiveObject | undefined, live: LiveView) => o !== undefined && !live.isOurs(o);
const isOurs = (o: LiveObject | undefined, live: LiveView) => o !== undefined && live.isOurs(o);

/** Dry-runs every step (past a failure, so that every object someone else has can be named). */
async function rehearse(client: KubeClient, steps: readonly Step[]) {
  const answers = new Map<string, LiveObject>();
  const failed = new Set<string>();
  let error: unknown;
  for (const s of steps) {
    const key = objectKey(s.object);
    try {
      answers.set(key, await applyObject(client, s, true));
    } catch (err) {
      failed.add(key);
      error ??= err;
    }
  }
  return { answers, failed, error };
}

const metadataOf = (o: LiveObject | undefined) => (o?.metadata ?? {}) as { resourceVersion?: string };

function applyObject(client: KubeClient, { object: o, manager }: Step, dryRun: boolean) {
  const type = resourceFor(o.apiVersion, o.kind);
  return client
    .request<LiveObject>('PATCH', objectPath(type, o.metadata.namespace!, o.metadata.name), {
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
