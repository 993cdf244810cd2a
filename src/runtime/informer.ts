// An informer: a cache of one resource type kept current by list + watch (client-node's ListWatch), with what
// the bare ListWatch lacks: it restarts itself after errors (API server restarts, network) with backoff,
// tells when its first list has been cached, reports events to its handlers, and (client-go's resync period)
// hands every cached object to them again every period, so a level-based controller revisits each one.
import { type KubeConfig, type KubernetesObject, ListWatch, Watch } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubeClient } from '../kube/client.js';
import { isNotFound } from '../kube/errors.js';
import { collectionPath, type ResourceType } from '../kube/resources.js';
import { ExponentialBackoff } from './backoff.js';

/** `resync`: no change, the periodic re-delivery of a cached object. */
export type EventType = 'add' | 'update' | 'delete' | 'resync';

export interface InformerOptions {
  type: ResourceType;
  kubeConfig: KubeConfig;
  client: KubeClient;
  log: Logger;
  /** Restrict to these objects, e.g. the operator's managed-by label. */
  labelSelector?: string;
  /** Watch one namespace only; all namespaces when undefined. */
  namespace?: string;
  /** Every this many ms, every cached object is handed to the handlers as a `resync` event; 0 or unset: never. */
  resyncPeriodMs?: number;
  /**
   * Applied to every object before it is cached (from the list and from each watch event), so the cache holds
   * only what its readers need (controller-runtime's cache transforms); it may change the object in place.
   * It must keep metadata name, namespace and resourceVersion.
   */
  transform?: (obj: KubernetesObject) => KubernetesObject;
}

interface ListResponse<T> {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion?: string };
  items: T[];
}

export class Informer<T extends KubernetesObject = KubernetesObject> {
  private readonly listWatch: ListWatch<T>;
  private readonly backoff = new ExponentialBackoff(200, 10_000);
  private readonly handlers: ((type: EventType, obj: T) => void)[] = [];
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private stopped = true;
  private restartTimer?: NodeJS.Timeout;
  private resyncTimer?: NodeJS.Timeout;
  lists = 0;

  constructor(private readonly opts: InformerOptions) {
    const path = collectionPath(opts.type, opts.namespace);
    const list = async () => {
      const res = await opts.client.request<ListResponse<T>>('LIST', path, {
        query: { labelSelector: opts.labelSelector },
      });
      this.lists++;
      this.backoff.forget('watch');
      // Items from the list are fixed up with apiVersion/kind (a list returns them bare).
      for (const item of res.items) {
        item.apiVersion ??= opts.type.apiVersion;
        item.kind ??= opts.type.kind;
      }
      if (opts.transform) res.items = res.items.map(opts.transform) as T[];
      // ListWatch fills its cache right after this promise resolves; mark synced after that.
      setImmediate(() => this.markSynced());
      return res;
    };
    const watch = opts.transform
      ? new TransformingWatch(opts.kubeConfig, opts.transform)
      : new Watch(opts.kubeConfig);
    this.listWatch = new ListWatch<T>(path, watch, list, false, opts.labelSelector);
    this.listWatch.on('add', (o) => this.emit('add', o));
    this.listWatch.on('update', (o) => this.emit('update', o));
    this.listWatch.on('delete', (o) => this.emit('delete', o));
    this.listWatch.on('error', (err) => this.onError(err));
  }

  get kind(): string {
    return this.opts.type.kind;
  }

  get namespace(): string | undefined {
    return this.opts.namespace;
  }

  on(handler: (type: EventType, obj: T) => void): void {
    this.handlers.push(handler);
  }

  async start(): Promise<void> {
    this.stopped = false;
    if (this.opts.resyncPeriodMs) {
      clearInterval(this.resyncTimer);
      this.resyncTimer = setInterval(() => this.resync(), this.opts.resyncPeriodMs);
      this.resyncTimer.unref();
    }
    await this.listWatch.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.resyncTimer);
    await this.listWatch.stop();
  }

  /** Resolves once the first list is in the cache. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  get(namespace: string, name: string): T | undefined {
    return this.listWatch.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.listWatch.list(namespace);
  }

  private emit(type: EventType, obj: T): void {
    this.backoff.forget('watch');
    obj.apiVersion ??= this.opts.type.apiVersion;
    obj.kind ??= this.opts.type.kind;
    for (const h of this.handlers) h(type, obj);
  }

  /** Hands every cached object to the handlers again (nothing before the first list is cached). */
  private resync(): void {
    if (this.stopped || !this.synced) return;
    for (const obj of this.listWatch.list()) for (const h of this.handlers) h('resync', obj);
  }

  private markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    for (const w of this.syncWaiters.splice(0)) w();
  }

  /** ListWatch stops on any error but a timeout or 410; restart it with backoff, resuming from its last version. */
  private onError(err: unknown): void {
    if (this.stopped) return;
    const wait = this.backoff.next('watch');
    if (isNotFound(err)) {
      // The resource is not served at all: for ScalableApp, the CRD is missing (installed from crds/ or the chart).
      this.opts.log.error(
        { kind: this.kind, apiVersion: this.opts.type.apiVersion, retryInMs: wait },
        `the API server does not serve ${this.kind} (${this.opts.type.apiVersion}): is its CRD installed? (kubectl apply --server-side -f crds/)`,
      );
    } else {
      this.opts.log.warn({ kind: this.kind, err: String(err), retryInMs: wait }, 'watch failed; restarting');
    }
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (this.stopped) return;
      this.listWatch.start().catch((e: unknown) => this.onError(e));
    }, wait);
    this.restartTimer.unref();
  }
}

/** A Watch that hands each watched object through `transform` before ListWatch caches it. */
class TransformingWatch extends Watch {
  constructor(
    config: KubeConfig,
    private readonly transform: (obj: KubernetesObject) => KubernetesObject,
  ) {
    super(config);
  }

  override watch(...[path, query, callback, done]: Parameters<Watch['watch']>): ReturnType<Watch['watch']> {
    return super.watch(
      path,
      query,
      (phase, obj, watchObj) =>
        callback(
          phase,
          phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED' ? this.transform(obj) : obj,
          watchObj,
        ),
      done,
    );
  }
}
