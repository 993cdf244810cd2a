// The ScalableApp controller: informers for the app and every owned kind (owned ones selected by the
// managed-by label), one per kind cluster-wide or one per kind and watched namespace, events mapped to the
// owning app's key, a work queue, and the reconciler. Every resync period the ScalableApp informers hand each
// cached app back, so every app is reconciled again though nothing changed (controller-runtime's SyncPeriod).
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { KIND } from '../api/v1alpha1/index.js';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../builders/meta.js';
import type { KubeClient } from '../kube/client.js';
import { isNotFound } from '../kube/errors.js';
import {
  OPTIONAL_OWNED_TYPES,
  OWNED_TYPES,
  type ResourceType,
  SCALABLE_APP,
  collectionPath,
} from '../kube/resources.js';
import { Informer } from '../runtime/informer.js';
import type { Metrics } from '../runtime/metrics.js';
import { WorkQueue } from '../runtime/queue.js';
import { Caches } from './caches.js';
import { EventRecorder } from './events.js';
import { Reconciler, reconcileIDOf } from './reconciler.js';

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
}

export class Controller {
  readonly caches = new Caches<Informer>();
  readonly queue: WorkQueue;
  readonly reconciler: Reconciler;
  private running = false;

  constructor(private readonly opts: ControllerOptions) {
    this.reconciler = new Reconciler({
      client: opts.client,
      caches: this.caches,
      log: opts.log,
      events: new EventRecorder(opts.client, opts.log),
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
    const types: ResourceType[] = [SCALABLE_APP, ...OWNED_TYPES];
    for (const t of OPTIONAL_OWNED_TYPES) if (await this.served(t)) types.push(t);
    for (const type of types) {
      for (const namespace of this.namespaces) {
        const informer = new Informer({
          type,
          kubeConfig: this.opts.kubeConfig,
          client: this.opts.client,
          log: this.opts.log,
          namespace,
          labelSelector: type.owned ? `${MANAGED_BY_LABEL}=${MANAGED_BY}` : undefined,
          // Owned objects map to their app, so resyncing the apps revisits everything.
          resyncPeriodMs: type === SCALABLE_APP ? this.opts.resyncPeriodMs : undefined,
        });
        informer.on((_event, obj) => this.enqueueFor(obj));
        this.caches.add(informer);
      }
    }
    await Promise.all(this.caches.all.map((i) => i.start()));
    await Promise.all(this.caches.all.map((i) => i.waitForSync()));
    this.opts.log.info(
      { kinds: this.caches.kinds, namespaces: this.opts.namespaces ?? '(all)' },
      'caches synced',
    );
  }

  get synced(): boolean {
    return this.caches.all.length > 0 && this.caches.all.every((i) => i.hasSynced);
  }

  /** Starts reconciling (call once leader): every known app is enqueued. */
  startWorkers(): void {
    this.running = true;
    for (const app of this.caches.list(KIND)) this.enqueueFor(app);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.queue.shutdown();
    await Promise.all(this.caches.all.map((i) => i.stop()));
  }

  /** The namespaces informers are started for: each watched one, or `undefined` once for all. */
  private get namespaces(): readonly (string | undefined)[] {
    return this.opts.namespaces ?? [undefined];
  }

  private enqueueFor(obj: KubernetesObject): void {
    if (!this.running) return;
    const ns = obj.metadata?.namespace;
    if (!ns) return;
    if (obj.kind === KIND) return this.queue.add(`${ns}/${obj.metadata!.name}`);
    const owner = obj.metadata?.ownerReferences?.find((r) => r.kind === KIND && r.controller);
    if (owner) return this.queue.add(`${ns}/${owner.name}`);
    // Objects deliberately left without an owner (credentials kept on Retain) map back by their instance label.
    const instance = obj.metadata?.labels?.['app.kubernetes.io/instance'];
    if (instance) this.queue.add(`${ns}/${instance}`);
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
          'cannot tell whether this kind is served; not watching it',
        );
        return false;
      }
    }
    return true;
  }
}
