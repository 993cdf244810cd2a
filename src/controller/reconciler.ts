// The reconcile pipeline for one ScalableApp: read (from the cache) → validate → build → apply what drifted →
// prune what is no longer desired → status, written only when it changed. Invalid specs change nothing.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ScalableApp, ScalableAppStatus } from '../api/v1alpha1/index.js';
import { parseScalableApp } from '../api/v1alpha1/parse.js';
import { transitionViolations } from '../api/v1alpha1/rules.js';
import { credentialsFromSecret, hasCredentials } from '../builders/credentials.js';
import { cacheEndpoint, formatEndpoint } from '../builders/endpoints.js';
import { databaseEndpoints } from '../builders/database/index.js';
import { exposureSummary } from './exposure-summary.js';
import { BuildError, buildAll } from '../builders/index.js';
import { FIELD_MANAGER, INSTANCE_LABEL } from '../builders/meta.js';
import { bindingSecretName, credentialsSecretName } from '../builders/names.js';
import type { Credentials, K8sObject } from '../builders/types.js';
import type { KubeClient } from '../kube/client.js';
import { ApiError, isNotFound } from '../kube/errors.js';
import { SCALABLE_APP, objectKey, objectPath, resourceFor } from '../kube/resources.js';
import { TerminalError } from '../runtime/queue.js';
import type { Caches } from './caches.js';
import { type ConditionInput, mergeConditions } from './conditions.js';
import { completeCredentials, randomPassword } from './credentials.js';
import { drift, ownedFieldPaths } from './drift.js';
import type { EventRecorder } from './events.js';
import { computeStatus } from './status.js';

export interface ReconcilerDeps {
  client: KubeClient;
  caches: Caches;
  log: Logger;
  events: EventRecorder;
  now?: () => Date;
  generatePassword?: () => string;
}

export interface ReconcileOutcome {
  applied: string[];
  /** Objects that did not exist before this pass. */
  created: string[];
  pruned: string[];
  statusWritten: boolean;
}

type AppObject = KubernetesObject & { spec?: unknown; status?: ScalableAppStatus };

const APPLY = 'application/apply-patch+yaml';
/** Holds `spec.replicas` between our manager letting go of it and the HPA taking it. */
export const HANDOVER_MANAGER = 'scalable-app-operator-replicas-handover';
const RESYNC_MS = 10 * 60_000;

export class Reconciler {
  private readonly now: () => Date;
  private readonly generatePassword: () => string;

  constructor(private readonly deps: ReconcilerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.generatePassword = deps.generatePassword ?? randomPassword;
  }

  async reconcile(key: string): Promise<ReconcileOutcome & { requeueAfterMs?: number }> {
    const [namespace, name] = key.split('/') as [string, string];
    const outcome: ReconcileOutcome = { applied: [], created: [], pruned: [], statusWritten: false };
    const raw = this.deps.caches.get(SCALABLE_APP.kind, namespace, name) as AppObject | undefined;
    if (!raw || raw.metadata?.deletionTimestamp) return outcome; // gone or going: owner references do the rest
    const log = this.deps.log.child({ scalableapp: key, generation: raw.metadata?.generation });

    const parsed = parseScalableApp(raw);
    if (!parsed.ok) return this.invalid(raw, parsed.message, log, outcome);
    const app = parsed.value;
    const transitions = transitionViolations(app.spec, previousSpec(raw.status));
    if (transitions.length) {
      return this.invalid(raw, transitions.map((v) => `${v.path}: ${v.message}`).join('; '), log, outcome);
    }

    const built = this.build(app, await this.credentials(app));
    if (!built.ok) return this.invalid(raw, built.message, log, outcome);
    const desired = built.objects;
    let error: { reason: string; message: string } | undefined;
    if (!app.spec.paused) {
      try {
        await this.applyAll(desired, outcome, log);
        await this.prune(app, desired, outcome, log);
      } catch (err) {
        error = describeError(err);
        log.warn({ err: error.message, reason: error.reason }, 'reconcile failed');
      }
    }
    if (outcome.created.length) {
      await this.deps.events.record(raw, 'Normal', 'Created', `created ${outcome.created.join(', ')}`);
    }
    if (outcome.pruned.length) {
      await this.deps.events.record(
        raw,
        'Normal',
        'Pruned',
        `deleted ${outcome.pruned.join(', ')} (no longer desired)`,
      );
    }
    await this.writeStatus(raw, app, desired, error, outcome, log);
    if (outcome.applied.length || outcome.pruned.length) {
      log.info({ applied: outcome.applied, pruned: outcome.pruned }, 'reconciled');
    }
    if (error && !(error.reason === 'Forbidden' || error.reason === 'Invalid')) {
      throw new Error(error.message); // transient: retry with backoff (status already says Degraded)
    }
    return { ...outcome, requeueAfterMs: RESYNC_MS };
  }

  /** The desired objects; an object a builder refuses is an invalid spec (its message names the field). */
  private build(app: ScalableApp, credentials: Credentials) {
    try {
      return { ok: true as const, objects: buildAll({ app, credentials }) };
    } catch (err) {
      if (err instanceof BuildError) return { ok: false as const, message: err.message };
      throw err;
    }
  }

  /** Existing credentials win (cache first, then a live read before ever generating). */
  private async credentials(app: ScalableApp) {
    const ns = app.metadata.namespace!;
    const secretName = credentialsSecretName(app);
    let secret = this.deps.caches.get('Secret', ns, secretName) as
      { data?: Record<string, string> } | undefined;
    if (!secret && hasCredentials(app)) {
      try {
        secret = await this.deps.client.request(
          'GET',
          objectPath(resourceFor('v1', 'Secret'), ns, secretName),
        );
      } catch (err) {
        if (!isNotFound(err)) throw err; // a failed read is an error, not an absence
      }
    }
    return completeCredentials(credentialsFromSecret(secret), this.generatePassword);
  }

  private live(o: { apiVersion: string; kind: string; metadata: { namespace?: string; name: string } }) {
    return this.deps.caches.get(o.kind, o.metadata.namespace ?? '', o.metadata.name) as
      Record<string, unknown> | undefined;
  }

  /** Dry-runs every changed object first, so a rejected object leaves nothing half-applied; then applies. */
  private async applyAll(
    desired: readonly K8sObject[],
    outcome: ReconcileOutcome,
    log: Logger,
  ): Promise<void> {
    const changed = desired.filter((o) => {
      const d = drift(o as Record<string, unknown>, this.live(o), FIELD_MANAGER);
      if (d.changed) log.debug({ object: objectKey(o), reason: d.reason }, 'drift');
      return d.changed;
    });
    if (!changed.length) return;
    const steps = changed.flatMap((o) => this.replicasHandover(o, desired));
    for (const s of steps) await this.apply(s.object, true, s.manager);
    const created = changed.filter((o) => !this.live(o)).map((o) => `${o.kind}/${o.metadata.name}`);
    for (const s of steps) {
      await this.apply(s.object, false, s.manager);
      if (s.manager === FIELD_MANAGER) outcome.applied.push(`${s.object.kind}/${s.object.metadata.name}`);
    }
    outcome.created.push(...created);
  }

  /**
   * The HPA owns `spec.replicas` of an autoscaled workload, so the desired object has none. Dropping a field
   * from an apply deletes it, which would reset the workload to 1 replica; so, as the server-side apply docs
   * advise: a new workload is created at the HPA's minReplicas, and when our manager still owns replicas, the
   * current value is first handed to a separate manager (which the HPA then takes it from).
   */
  private replicasHandover(
    o: K8sObject,
    desired: readonly K8sObject[],
  ): { object: K8sObject; manager: string }[] {
    const spec = o.spec as { replicas?: number } | undefined;
    if ((o.kind !== 'Deployment' && o.kind !== 'StatefulSet') || spec?.replicas !== undefined) {
      return [{ object: o, manager: FIELD_MANAGER }];
    }
    const live = this.live(o) as
      { spec?: { replicas?: number }; metadata?: { managedFields?: unknown[] } } | undefined;
    if (!live) {
      const hpa = desired.find(
        (h) =>
          h.kind === 'HorizontalPodAutoscaler' &&
          (h.spec as { scaleTargetRef?: { kind: string; name: string } }).scaleTargetRef?.name ===
            o.metadata.name,
      );
      const min = (hpa?.spec as { minReplicas?: number } | undefined)?.minReplicas;
      return [{ object: min ? { ...o, spec: { ...spec, replicas: min } } : o, manager: FIELD_MANAGER }];
    }
    const ownsReplicas = ownsField(live, ['spec', 'replicas']);
    if (!ownsReplicas || live.spec?.replicas === undefined) return [{ object: o, manager: FIELD_MANAGER }];
    const handover: K8sObject = {
      apiVersion: o.apiVersion,
      kind: o.kind,
      metadata: { name: o.metadata.name, namespace: o.metadata.namespace },
      spec: { replicas: live.spec.replicas },
    };
    return [
      { object: handover, manager: HANDOVER_MANAGER },
      { object: o, manager: FIELD_MANAGER },
    ];
  }

  private apply(o: K8sObject, dryRun: boolean, manager = FIELD_MANAGER) {
    const type = resourceFor(o.apiVersion, o.kind);
    return this.deps.client
      .request('PATCH', objectPath(type, o.metadata.namespace!, o.metadata.name), {
        query: { fieldManager: manager, force: true, ...(dryRun ? { dryRun: 'All' } : {}) },
        body: o,
        contentType: APPLY,
      })
      .catch((err: unknown) => {
        throw new ApplyError(o, err);
      });
  }

  /** Deletes owned objects of this app that are no longer desired. Objects without our owner reference are never touched. */
  private async prune(
    app: ScalableApp,
    desired: readonly K8sObject[],
    outcome: ReconcileOutcome,
    log: Logger,
  ) {
    const keep = new Set(desired.map(objectKey));
    const uid = app.metadata.uid;
    for (const informer of this.deps.caches.all) {
      if (informer.kind === SCALABLE_APP.kind) continue;
      for (const obj of informer.list(app.metadata.namespace)) {
        if (obj.metadata?.labels?.[INSTANCE_LABEL] !== app.metadata.name) continue;
        if (!obj.metadata?.ownerReferences?.some((r) => r.uid === uid && r.controller)) continue;
        if (keep.has(objectKey(obj))) continue;
        const type = resourceFor(obj.apiVersion!, obj.kind!);
        try {
          await this.deps.client.request(
            'DELETE',
            objectPath(type, obj.metadata.namespace!, obj.metadata.name!),
            {
              body: { propagationPolicy: 'Background', preconditions: { uid: obj.metadata.uid } },
            },
          );
          outcome.pruned.push(`${obj.kind}/${obj.metadata.name}`);
          log.info({ object: objectKey(obj) }, 'pruned');
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
    }
  }

  private async invalid(
    raw: AppObject,
    message: string,
    log: Logger,
    outcome: ReconcileOutcome,
  ): Promise<never> {
    log.warn({ reason: 'InvalidSpec', message }, 'invalid spec: nothing changed');
    const conditions = mergeInvalid(raw, message, this.now());
    const status: ScalableAppStatus = { ...(raw.status ?? {}), conditions };
    if (!sameJson(status, raw.status ?? {})) {
      await this.patchStatus(raw, status);
      outcome.statusWritten = true;
      await this.deps.events.record(raw, 'Warning', 'InvalidSpec', message);
    }
    throw new TerminalError(`invalid spec: ${message}`);
  }

  private async writeStatus(
    raw: AppObject,
    app: ScalableApp,
    desired: readonly K8sObject[],
    error: { reason: string; message: string } | undefined,
    outcome: ReconcileOutcome,
    log: Logger,
  ): Promise<void> {
    const endpoints = databaseEndpoints(app);
    const exposure = exposureSummary(app);
    const status = computeStatus({
      app,
      desired,
      live: (o) => this.live(o),
      error,
      succeeded: !error && !app.spec.paused,
      paused: app.spec.paused,
      exposure,
      endpoints: {
        cache: app.spec.cache?.enabled ? formatEndpoint(cacheEndpoint(app)) : undefined,
        primary: app.spec.database?.enabled ? formatEndpoint(endpoints.primary) : undefined,
        replicas: app.spec.database?.enabled ? formatEndpoint(endpoints.replicas) : undefined,
        shards: endpoints.shards.map((s) => ({
          index: s.index,
          write: formatEndpoint(s.primary),
          read: formatEndpoint(s.replicas),
        })),
      },
      bindingSecretName: desired.some(
        (o) => o.kind === 'Secret' && o.metadata.name === bindingSecretName(app),
      )
        ? bindingSecretName(app)
        : undefined,
      now: this.now(),
    });
    if (sameJson(status, raw.status ?? {})) return;
    await this.patchStatus(raw, status);
    outcome.statusWritten = true;
    await this.recordTransitions(raw, status, log);
  }

  private async recordTransitions(raw: AppObject, next: ScalableAppStatus, log: Logger) {
    const before = (t: string) => raw.status?.conditions?.find((c) => c.type === t);
    const after = (t: string) => next.conditions?.find((c) => c.type === t);
    const ready = after('Ready');
    if (ready && before('Ready')?.status !== ready.status) {
      await this.deps.events.record(
        raw,
        ready.status === 'True' ? 'Normal' : 'Warning',
        `Ready${ready.status}`,
        ready.message,
      );
    }
    const degraded = after('Degraded');
    if (degraded?.status === 'True' && before('Degraded')?.status !== 'True') {
      await this.deps.events.record(raw, 'Warning', 'Degraded', degraded.message);
    }
    const oldWeb = raw.status?.web?.desiredReplicas;
    const newWeb = next.web?.desiredReplicas;
    if (oldWeb !== undefined && newWeb !== undefined && oldWeb !== newWeb) {
      await this.deps.events.record(raw, 'Normal', 'Scaled', `web scaled from ${oldWeb} to ${newWeb} pods`);
    }
    log.debug({ ready: ready?.status }, 'status written');
  }

  private async patchStatus(raw: AppObject, status: ScalableAppStatus) {
    await this.deps.client.request(
      'PATCH',
      `${objectPath(SCALABLE_APP, raw.metadata!.namespace!, raw.metadata!.name!)}/status`,
      {
        query: { fieldManager: FIELD_MANAGER, force: true },
        contentType: APPLY,
        body: {
          apiVersion: SCALABLE_APP.apiVersion,
          kind: SCALABLE_APP.kind,
          metadata: { name: raw.metadata!.name, namespace: raw.metadata!.namespace },
          status,
        },
      },
    );
  }
}

export class ApplyError extends Error {
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

function describeError(err: unknown): { reason: string; message: string } {
  const api = err instanceof ApplyError ? err.cause : err;
  if (api instanceof ApiError) {
    const reason = api.status === 403 ? 'Forbidden' : api.status === 422 ? 'Invalid' : 'ApplyFailed';
    return { reason, message: err instanceof Error ? err.message : String(err) };
  }
  return { reason: 'ReconcileError', message: err instanceof Error ? err.message : String(err) };
}

/** Deep equality of JSON values regardless of key order (the API server does not keep ours). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]))
    );
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return (
    ka.length === kb.length &&
    ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

const ownsField = (live: { metadata?: { managedFields?: unknown[] } }, path: string[]) =>
  ownedFieldPaths(live.metadata?.managedFields as Parameters<typeof ownedFieldPaths>[0], FIELD_MANAGER).some(
    (p) => p.join('/') === path.join('/'),
  );

/** What the transition rules compare against: the engine and shard count the operator last observed. */
function previousSpec(status: ScalableAppStatus | undefined): Record<string, unknown> | undefined {
  const db = status?.database;
  if (!db?.engine) return undefined;
  return { database: { engine: db.engine, shards: { count: db.shards?.length ?? 0 } } };
}

/** Ready, Progressing and Degraded say InvalidSpec; the component conditions stay as they were. */
function mergeInvalid(raw: AppObject, message: string, now: Date) {
  const prev = raw.status?.conditions ?? [];
  const invalid: ConditionInput[] = [
    { type: 'Ready', status: 'False', reason: 'InvalidSpec', message },
    { type: 'Progressing', status: 'False', reason: 'InvalidSpec', message: 'waiting for a valid spec' },
    { type: 'Degraded', status: 'True', reason: 'InvalidSpec', message },
  ];
  return [
    ...mergeConditions(prev, invalid, raw.metadata?.generation, now),
    ...prev.filter((c) => !invalid.some((i) => i.type === c.type)),
  ];
}
