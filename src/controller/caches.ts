// Read access to the informer caches, by kind: every read in a reconcile comes from here, not the API server.
// A kind has one cache cluster-wide, or one per watched namespace; a read goes to the one holding its namespace.
import type { KubernetesObject } from '@kubernetes/client-node';

/** A cache of one kind, in one namespace or (namespace undefined) in all: an informer, or a fixed list in tests. */
export interface Store {
  readonly kind: string;
  readonly namespace: string | undefined;
  get(namespace: string, name: string): KubernetesObject | undefined;
  list(namespace?: string): readonly KubernetesObject[];
}

/** `S`: what the caches are (the controller's are informers, so it can also start, stop and count them). */
export class Caches<S extends Store = Store> {
  private readonly byKind = new Map<string, S[]>();

  add(store: S): void {
    const stores = this.byKind.get(store.kind) ?? [];
    if (stores.some((s) => s.namespace === store.namespace)) {
      throw new Error(`a ${store.kind} cache for ${store.namespace ?? 'all namespaces'} is already added`);
    }
    this.byKind.set(store.kind, [...stores, store]);
  }

  /**
   * The cache of `kind` that holds `namespace`: the cluster-wide one, or the one of that namespace. Without a
   * namespace, the cluster-wide cache only (undefined when the kind is watched per namespace).
   */
  informer(kind: string, namespace?: string): S | undefined {
    return this.byKind.get(kind)?.find((s) => s.namespace === undefined || s.namespace === namespace);
  }

  /** Every cache of `kind` (one per watched namespace, or one for all). */
  informers(kind: string): readonly S[] {
    return this.byKind.get(kind) ?? [];
  }

  get kinds(): string[] {
    return [...this.byKind.keys()];
  }

  get(kind: string, namespace: string, name: string): KubernetesObject | undefined {
    return this.informer(kind, namespace)?.get(namespace, name);
  }

  /** The cached objects of `kind` in `namespace`, or in every watched namespace when it is undefined. */
  list(kind: string, namespace?: string): readonly KubernetesObject[] {
    if (namespace !== undefined) return this.informer(kind, namespace)?.list(namespace) ?? [];
    return this.informers(kind).flatMap((s) => s.list());
  }

  get all(): S[] {
    return [...this.byKind.values()].flat();
  }
}
