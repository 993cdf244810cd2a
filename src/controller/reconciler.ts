// The reconcile pipeline for one ScalableApp, phase by phase: read the app (from the cache) → parse → check the
// transition rules → credentials → build the desired objects → unless paused: leave everything alone while a
// desired object exists that is not this app's, else apply what drifted and prune what is no longer desired →
// hand the database's replication groups to the replication monitor (who is primary is its call) → events → status, written only when it changed. An invalid spec (the schema, a transition rule, or a builder
// refusing an object) changes nothing and is not retried; a failed apply shows in status and is retried.
import type { KubernetesObject } from '@kubernetes/client-node';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ScalableApp, ScalableAppStatus } from '../api/v1alpha1/index.js';
import { parseScalableApp } from '../api/v1alpha1/parse.js';
import { transitionViolations } from '../api/v1alpha1/rules.js';
import { credentialsFromSecret, hasCredentials } from '../builders/credentials.js';
import { BuildError, buildAll } from '../builders/index.js';
import { bindingSecretName, credentialsSecretName } from '../builders/names.js';
import type { Credentials, K8sObject } from '../builders/types.js';
import type { KubeClient } from '../kube/client.js';
import { SCALABLE_APP } from '../kube/resources.js';
import { TerminalError } from '../runtime/queue.js';
import { type Failure, applyChanged, describeError } from './apply.js';
import type { Caches } from './caches.js';
import { completeCredentials, randomPassword } from './credentials.js';
import { type EventRecorder, transitionEvents } from './events.js';
import { exposureSummary } from './exposure-summary.js';
import { type LiveObject, LiveObjects, notOwned, ownedBy } from './ownership.js';
import { pruneUndesired } from './prune.js';
import type { ReshardingReport } from './resharding-monitor.js';
import { computeStatus, haltedStatus, invalidStatus, statusEndpoints } from './status.js';
import { writeStatus } from './status-writer.js';

/** The replication monitor as the reconciler uses it (replication-monitor.ts). */
export interface ReplicationTracker {
  track(app: ScalableApp, credentials: Credentials): void;
  untrack(key: string): void;
  activity(key: string, tier: 'database' | 'cache'): string[];
}

/** The resharding monitor as the reconciler uses it (resharding-monitor.ts). */
export interface ReshardingTracker {
  track(app: ScalableApp, credentials: Credentials, seedCount: number): void;
  untrack(key: string): void;
  report(key: string): ReshardingReport | undefined;
}

export interface ReconcilerDeps {
  client: KubeClient;
  replication?: ReplicationTracker;
  resharding?: ReshardingTracker;
  caches: Caches;
  log: Logger;
  events: EventRecorder;
  now?: () => Date;
  generatePassword?: () => string;
}

export interface ReconcileOutcome {
  /** `Kind/name` of the objects applied. */
  applied: string[];
  /** Objects that did not exist before this pass. */
  created: string[];
  pruned: string[];
  statusWritten: boolean;
  /** Run the pass again after this long though nothing changed (controller-runtime's RequeueAfter). Periodic
   *  resync is the informers' resync period, so no pass asks for it today. */
  requeueAfterMs?: number;
}

type AppObject = KubernetesObject & { spec?: unknown; status?: ScalableAppStatus };

/** Failures a retry cannot fix: they wait for a person (RBAC, a spec the API server rejects). */
const TERMINAL = new Set(['Forbidden', 'Invalid']);

export class Reconciler {
  private readonly now: () => Date;
  private readonly generatePassword: () => string;

  constructor(private readonly deps: ReconcilerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.generatePassword = deps.generatePassword ?? randomPassword;
  }

  /** One pass over the app `namespace/name`; an error it throws carries the pass's reconcileID (`reconcileIDOf`). */
  async reconcile(key: string): Promise<ReconcileOutcome> {
    const reconcileID = randomUUID();
    try {
      return await this.pass(key, reconcileID);
    } catch (err) {
      if (typeof err === 'object' && err !== null) Object.assign(err, { reconcileID });
      throw err;
    }
  }

  private async pass(key: string, reconcileID: string): Promise<ReconcileOutcome> {
    const [namespace, name] = key.split('/') as [string, string];
    const outcome: ReconcileOutcome = { applied: [], created: [], pruned: [], statusWritten: false };
    const raw = this.deps.caches.get(SCALABLE_APP.kind, namespace, name) as AppObject | undefined;
    if (!raw || raw.metadata?.deletionTimestamp) {
      this.deps.replication?.untrack(key);
      this.deps.resharding?.untrack(key);
      return outcome; // gone or going: owner references do the rest
    }
    const log = this.deps.log.child({
      scalableapp: key,
      generation: raw.metadata?.generation,
      reconcileID,
    });

    const parsed = parseScalableApp(raw);
    if (!parsed.ok) return this.invalid(raw, parsed.message, log, outcome);
    const app = parsed.value;

    const violations = transitionViolations(app.spec, previousSpec(raw.status));
    if (violations.length) {
      return this.invalid(raw, violations.map((v) => `${v.path}: ${v.message}`).join('; '), log, outcome);
    }

    const live = new LiveObjects(this.deps.caches, this.deps.client);
    const credentials = await this.credentials(app, live).catch((err: unknown) => err as Error);
    if (credentials instanceof Error) return this.halted(raw, describeError(credentials), log, outcome);
    const built = build(app, credentials);
    if (!built.ok) return this.invalid(raw, built.message, log, outcome);
    const desired = built.objects;

    const failure = app.spec.paused ? undefined : await this.converge(app, desired, live, outcome, log);
    this.deps.replication?.track(app, credentials);
    // The count the apps routed by before (a map that does not exist yet is created from it).
    this.deps.resharding?.track(app, credentials, raw.status?.database?.shards?.length ?? shardCount(app));
    await this.recordChanges(raw, outcome, log);
    await this.report(raw, app, desired, live, failure, outcome, log);
    if (outcome.applied.length || outcome.pruned.length) {
      log.info({ applied: outcome.applied, pruned: outcome.pruned }, 'reconciled');
    }
    if (failure && !TERMINAL.has(failure.reason)) {
      throw new Error(failure.message); // retried with backoff (status already says Degraded)
    }
    return outcome;
  }

  /** Existing credentials win: this app's credentials Secret from the cache, else read once before generating. */
  private async credentials(app: ScalableApp, live: LiveObjects): Promise<Credentials> {
    const ref = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { namespace: app.metadata.namespace, name: credentialsSecretName(app) },
    };
    const secret = hasCredentials(app) ? await live.get(ref) : live.known(ref);
    const ours = secret && ownedBy(secret, app) ? (secret as { data?: Record<string, string> }) : undefined;
    return completeCredentials(credentialsFromSecret(ours), this.generatePassword);
  }

  /**
   * Changes the cluster: nothing while a desired object exists that is not this app's (it is reported, not
   * taken over); else applies what drifted, then prunes. Returns the failure, if any.
   */
  private async converge(
    app: ScalableApp,
    desired: readonly K8sObject[],
    live: LiveObjects,
    outcome: ReconcileOutcome,
    log: Logger,
  ): Promise<Failure | undefined> {
    try {
      const view = {
        known: (o: K8sObject) => live.known(o),
        fetch: (o: K8sObject) => live.fetch(o),
        remember: (o: K8sObject, answer: Record<string, unknown>) => live.remember(o, answer as LiveObject),
        isOurs: (o: Record<string, unknown>) => ownedBy(o as LiveObject, app),
      };
      const { applied, created, foreign } = await applyChanged(this.deps.client, desired, view, log);
      if (foreign.length) return this.notTakingOver(foreign, log);
      outcome.applied.push(...applied);
      outcome.created.push(...created);
      const { client, caches } = this.deps;
      outcome.pruned.push(...(await pruneUndesired(client, caches, app, desired, log)));
      return undefined;
    } catch (err) {
      const failure = describeError(err);
      log.warn({ err: failure.message, reason: failure.reason }, 'reconcile failed');
      return failure;
    }
  }

  private notTakingOver(foreign: readonly K8sObject[], log: Logger): Failure {
    const failure = notOwned(foreign);
    log.warn({ reason: failure.reason, err: failure.message }, 'not taking over objects: nothing applied');
    return failure;
  }

  private async recordChanges(raw: AppObject, outcome: ReconcileOutcome, log: Logger): Promise<void> {
    const { events } = this.deps;
    if (outcome.created.length) {
      await events.record(raw, 'Normal', 'Created', `created ${outcome.created.join(', ')}`, log);
    }
    if (outcome.pruned.length) {
      await events.record(
        raw,
        'Normal',
        'Pruned',
        `deleted ${outcome.pruned.join(', ')} (no longer desired)`,
      );
    }
  }

  /** Writes the observed status if it changed, and records the transitions worth an event. */
  private async report(
    raw: AppObject,
    app: ScalableApp,
    desired: readonly K8sObject[],
    live: LiveObjects,
    failure: Failure | undefined,
    outcome: ReconcileOutcome,
    log: Logger,
  ): Promise<void> {
    const binding = bindingSecretName(app);
    const status = computeStatus({
      app,
      desired,
      live: (o) => {
        const l = live.known(o);
        return l && ownedBy(l, app) ? l : undefined; // someone else's object says nothing about this app
      },
      failure,
      succeeded: !failure && !app.spec.paused,
      paused: app.spec.paused,
      exposure: exposureSummary(app),
      endpoints: statusEndpoints(app),
      bindingSecretName: desired.some((o) => o.kind === 'Secret' && o.metadata.name === binding)
        ? binding
        : undefined,
      resharding: this.deps.resharding?.report(appKey(app)),
      replicationActivity: {
        database: this.deps.replication?.activity(appKey(app), 'database') ?? [],
        cache: this.deps.replication?.activity(appKey(app), 'cache') ?? [],
      },
      now: this.now(),
    });
    if (!(await writeStatus(this.deps.client, raw, status))) return;
    outcome.statusWritten = true;
    for (const e of transitionEvents(raw.status, status)) {
      await this.deps.events.record(raw, e.type, e.reason, e.message, log);
    }
    log.debug({ ready: status.conditions?.find((c) => c.type === 'Ready')?.status }, 'status written');
  }

  /**
   * Reports a pass that could not read what it needs before building (the credentials Secret: a failed read is
   * not an absence, so nothing may be generated) and ends it with an error, retried with backoff.
   */
  private async halted(
    raw: AppObject,
    failure: Failure,
    log: Logger,
    outcome: ReconcileOutcome,
  ): Promise<never> {
    log.warn(
      { reason: failure.reason, err: failure.message },
      'cannot read the credentials: nothing changed',
    );
    const status = haltedStatus(raw, failure, 'waiting to read the credentials', this.now());
    if (await writeStatus(this.deps.client, raw, status)) {
      outcome.statusWritten = true;
      for (const e of transitionEvents(raw.status, status)) {
        await this.deps.events.record(raw, e.type, e.reason, e.message, log);
      }
    }
    throw new Error(failure.message);
  }

  /** Reports an invalid spec (status and a Warning event, once) and ends the pass without retry. */
  private async invalid(
    raw: AppObject,
    message: string,
    log: Logger,
    outcome: ReconcileOutcome,
  ): Promise<never> {
    log.warn({ reason: 'InvalidSpec', message }, 'invalid spec: nothing changed');
    if (await writeStatus(this.deps.client, raw, invalidStatus(raw, message, this.now()))) {
      outcome.statusWritten = true;
      await this.deps.events.record(raw, 'Warning', 'InvalidSpec', message, log);
    }
    throw new TerminalError(`invalid spec: ${message}`);
  }
}

const appKey = (app: ScalableApp) => `${app.metadata.namespace}/${app.metadata.name}`;
const shardCount = (app: ScalableApp) => app.spec.database?.shards.count ?? 0;

/** The reconcileID of the pass that threw `err`, for the log line of whoever handles it. */
export function reconcileIDOf(err: unknown): string | undefined {
  const id = (err as { reconcileID?: unknown } | null)?.reconcileID;
  return typeof id === 'string' ? id : undefined;
}

/** The desired objects; an object a builder refuses is an invalid spec (its message names the field). */
function build(app: ScalableApp, credentials: Credentials) {
  try {
    return { ok: true as const, objects: buildAll({ app, credentials }) };
  } catch (err) {
    if (err instanceof BuildError) return { ok: false as const, message: err.message };
    throw err;
  }
}

/** What the transition rules compare against: the engine and shard count the operator last observed. */
function previousSpec(status: ScalableAppStatus | undefined): Record<string, unknown> | undefined {
  const db = status?.database;
  if (!db?.engine) return undefined;
  return { database: { engine: db.engine, shards: { count: db.shards?.length ?? 0 } } };
}
