// The ScalableApp controller: informers for the app and every owned kind (owned ones selected by the
// managed-by label), one per kind cluster-wide or one per kind and watched namespace, events mapped to the
// owning app's key, a work queue, and the reconciler. Every resync period the ScalableApp informers hand each
// cached app back, so every app is reconciled again though nothing changed (controller-runtime's SyncPeriod).
// An optional kind (HTTPRoute) is watched once its CRD is served: one missing at start is looked for again every
// optionalKindRecheckMs (a list of that kind, as allowed in the watched namespaces; a watch on
// CustomResourceDefinitions would need cluster-wide RBAC), and when it appears its informers start and every app
// is reconciled again.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { KIND } from '../api/v1alpha1/index.js';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../builders/meta.js';
import type { KubeClient } from '../kube/client.js';
import { isNotFound } from '../kube/errors.js';
import {
  DATA_TIER_POD,
  OPTIONAL_OWNED_TYPES,
  OWNED_TYPES,
  type ResourceType,
  SCALABLE_APP,
  collectionPath,
} from '../kube/resources.js';
import { Informer } from '../runtime/informer.js';
import type { Metrics } from '../runtime/metrics.js';
import { type Priority, WorkQueue } from '../runtime/queue.js';
import { cacheTransformFor } from './cache-transforms.js';
import { Caches } from './caches.js';
import { EventRecorder } from './events.js';
import { Reconciler, reconcileIDOf } from './reconciler.js';
import { type MonitorDeps, ReplicationMonitor } from './replication-monitor.js';
import { ReshardingMonitor } from './resharding-monitor.js';
import type { PodAddress } from './resharding-topology.js';

export const CONTROLLER_NAME = 'scalableapp';

export interface ControllerOptions {
  kubeConfig: KubeConfig;
  client: KubeClient;
  log: Logger;
  metrics: Metrics;
  concurrency: number;
  /** Watch these namespaces; all when undefined. */
  namespaces?: readonly string[];
  /** Every cached app is enqueued again this often; 0 or undefined: never. */
  resyncPeriodMs?: number;
  /** For tests: a fixed password generator. */
  generatePassword?: () => string;
  /** Owned kinds watched only when served; default OPTIONAL_OWNED_TYPES (tests use a kind of their own). */
  optionalTypes?: readonly ResourceType[];
  /** How often an optional kind not served yet is looked for again; default 30 s. */
  optionalKindRecheckMs?: number;
  /** How often each replication group is checked; default 2 s. */
  replicationIntervalMs?: number;
  /** For tests: simulated database servers (see ReplicationMonitor). */
  replicationPass?: MonitorDeps['pass'];
  /** For tests: how the operator reaches a database pod (default its IP; see ReshardingMonitor). */
  reshardingAddress?: PodAddress;
}

const OPTIONAL_KIND_RECHECK_MS = 30_000;

export class Controller {
  readonly caches = new Caches<Informer>();
  readonly queue: WorkQueue;
  readonly reconciler: Reconciler;
  readonly replication: ReplicationMonitor;
  readonly resharding: ReshardingMonitor;
  private running = false;
  private stopped = false;
  /** Optional kinds not served when last looked for, and the timer of the next look. */
  private notServed: readonly ResourceType[] = [];
  private recheck?: NodeJS.Timeout;

  constructor(private readonly opts: ControllerOptions) {
    const events = new EventRecorder(opts.client, opts.log);
    // What the monitors share: the caches, the log, events, metrics, and a reconcile of the app they report on.
    const monitorDeps = {
      caches: this.caches,
      log: opts.log,
      events,
      metrics: opts.metrics,
      enqueue: (key: string) => {
        if (this.running) this.queue.add(key);
      },
    };
    this.replication = new ReplicationMonitor({
      ...monitorDeps,
      client: opts.client,
      ...(opts.replicationIntervalMs ? { intervalMs: opts.replicationIntervalMs } : {}),
      ...(opts.replicationPass ? { pass: opts.replicationPass } : {}),
    });
    this.resharding = new ReshardingMonitor({
      ...monitorDeps,
      ...(opts.reshardingAddress ? { address: opts.reshardingAddress } : {}),
    });
    this.reconciler = new Reconciler({
      client: opts.client,
      caches: this.caches,
      log: opts.log,
      events,
      replication: this.replication,
      resharding: this.resharding,
      generatePassword: opts.generatePassword,
    });
    this.queue = new WorkQueue({
      name: CONTROLLER_NAME,
      concurrency: opts.concurrency,
      metrics: opts.metrics,
      handler: (key) => this.reconcileKey(key),
      onError: (key, err, retryInMs) =>
        opts.log.warn(
          { scalableapp: key, reconcileID: reconcileIDOf(err), err: (err as Error).message, retryInMs },
          'reconcile error',
        ),
    });
  }

  /** Starts the informers and waits for their caches (watching may begin before leadership). */
  async startInformers(): Promise<void> {
    const types: ResourceType[] = [SCALABLE_APP, ...OWNED_TYPES, DATA_TIER_POD];
    const notServed: ResourceType[] = [];
    for (const t of this.opts.optionalTypes ?? OPTIONAL_OWNED_TYPES) {
      ((await this.served(t)) ? types : notServed).push(t);
    }
    for (const informer of types.flatMap((t) => this.informersOf(t))) this.caches.add(informer);
    await Promise.all(this.caches.all.map((i) => i.start()));
    await Promise.all(this.caches.all.map((i) => i.waitForSync()));
    this.opts.log.info(
      { kinds: this.caches.kinds, namespaces: this.opts.namespaces ?? '(all)' },
      'caches synced',
    );
    this.notServed = notServed;
    this.scheduleRecheck();
  }

  /** Kinds that are optional and not watched yet (their CRD was not served when last looked for). */
  get unwatchedKinds(): string[] {
    return this.notServed.map((t) => t.kind);
  }

  private informersOf(type: ResourceType): Informer[] {
    return this.namespaces.map((namespace) => {
      const informer = new Informer({
        type,
        kubeConfig: this.opts.kubeConfig,
        client: this.opts.client,
        log: this.opts.log,
        namespace,
        labelSelector: type.selector ?? (type.owned ? `${MANAGED_BY_LABEL}=${MANAGED_BY}` : undefined),
        // Owned objects map to their app, so resyncing the apps revisits everything.
        resyncPeriodMs: type === SCALABLE_APP ? this.opts.resyncPeriodMs : undefined,
        transform: cacheTransformFor(type),
      });
      // A change goes ahead of every app waiting only for its periodic resync (queue.ts).
      informer.on((event, obj) => this.enqueueFor(obj, event === 'resync' ? 'resync' : 'event'));
      return informer;
    });
  }

  private scheduleRecheck(): void {
    if (this.stopped || this.notServed.length === 0) return;
    const ms = this.opts.optionalKindRecheckMs ?? OPTIONAL_KIND_RECHECK_MS;
    this.recheck = setTimeout(() => void this.watchNewlyServed().finally(() => this.scheduleRecheck()), ms);
  }

  /**
   * Starts the informers of each optional kind served now, adds them to the caches once synced (a read before
   * that goes to the API server, as for any cache miss), and reconciles every app again: an app whose HTTPRoute
   * could not be applied converges without waiting for its backoff.
   */
  private async watchNewlyServed(): Promise<void> {
    const still: ResourceType[] = [];
    for (const type of this.notServed) {
      if (this.stopped || !(await this.served(type))) {
        still.push(type);
        continue;
      }
      const informers = this.informersOf(type);
      await Promise.all(informers.map((i) => i.start()));
      await Promise.all(informers.map((i) => i.waitForSync()));
      if (this.stopped) {
        await Promise.all(informers.map((i) => i.stop()));
        return;
      }
      for (const informer of informers) this.caches.add(informer);
      this.opts.log.info({ kind: type.kind }, 'its CRD is served now: watching it');
      if (this.running) for (const app of this.caches.list(KIND)) this.enqueueFor(app, 'resync');
    }
    this.notServed = still;
  }

  get synced(): boolean {
    return this.caches.all.length > 0 && this.caches.all.every((i) => i.hasSynced);
  }

  /** Starts reconciling (call once leader): every known app is enqueued, behind any change (as a resync). */
  startWorkers(): void {
    this.running = true;
    for (const app of this.caches.list(KIND)) this.enqueueFor(app, 'resync');
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopped = true;
    clearTimeout(this.recheck);
    this.replication.stop();
    this.resharding.stop();
    await this.queue.shutdown();
    await Promise.all(this.caches.all.map((i) => i.stop()));
  }

  /** The namespaces informers are started for: each watched one, or `undefined` once for all. */
  private get namespaces(): readonly (string | undefined)[] {
    return this.opts.namespaces ?? [undefined];
  }

  private enqueueFor(obj: KubernetesObject, priority: Priority): void {
    if (!this.running) return;
    const ns = obj.metadata?.namespace;
    if (!ns) return;
    if (obj.kind === KIND) return this.queue.add(`${ns}/${obj.metadata!.name}`, priority);
    const owner = obj.metadata?.ownerReferences?.find((r) => r.kind === KIND && r.controller);
    if (owner) return this.queue.add(`${ns}/${owner.name}`, priority);
    // Objects deliberately left without an owner (credentials kept on Retain) map back by their instance label.
    const instance = obj.metadata?.labels?.['app.kubernetes.io/instance'];
    if (instance) this.queue.add(`${ns}/${instance}`, priority);
  }

  private async reconcileKey(key: string) {
    const started = performance.now();
    const { metrics } = this.opts;
    metrics.activeWorkers.inc({ controller: CONTROLLER_NAME });
    try {
      const out = await this.reconciler.reconcile(key);
      metrics.reconcileTotal.inc({
        controller: CONTROLLER_NAME,
        result: out.requeueAfterMs ? 'requeue_after' : 'success',
      });
      return out.requeueAfterMs ? { requeueAfterMs: out.requeueAfterMs } : undefined;
    } catch (err) {
      metrics.reconcileTotal.inc({ controller: CONTROLLER_NAME, result: 'error' });
      metrics.reconcileErrors.inc({ controller: CONTROLLER_NAME });
      throw err;
    } finally {
      metrics.activeWorkers.dec({ controller: CONTROLLER_NAME });
      metrics.reconcileTime.observe({ controller: CONTROLLER_NAME }, (performance.now() - started) / 1000);
    }
  }

  /** Whether an optional kind (e.g. HTTPRoute) is served by this cluster and readable where we watch. */
  private async served(t: ResourceType): Promise<boolean> {
    for (const namespace of this.namespaces) {
      try {
        await this.opts.client.request('LIST', collectionPath(t, namespace), { query: { limit: 1 } });
      } catch (err) {
        if (isNotFound(err)) return false;
        this.opts.log.warn(
          { kind: t.kind, namespace, err: String(err) },
          'cannot tell whether this kind is served; not watching it yet (looked for again later)',
        );
        return false;
      }
    }
    return true;
  }
}
