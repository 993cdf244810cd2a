// Read access to the informer caches, by kind: every read in a reconcile comes from here, not the API server.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Informer } from '../runtime/informer.js';

export class Caches {
  private readonly byKind = new Map<string, Informer>();

  add(informer: Informer): void {
    this.byKind.set(informer.kind, informer);
  }

  informer(kind: string): Informer | undefined {
    return this.byKind.get(kind);
  }

  get kinds(): string[] {
    return [...this.byKind.keys()];
  }

  get(kind: string, namespace: string, name: string): KubernetesObject | undefined {
    return this.byKind.get(kind)?.get(namespace, name);
  }

  list(kind: string, namespace: string): readonly KubernetesObject[] {
    return this.byKind.get(kind)?.list(namespace) ?? [];
  }

  get all(): Informer[] {
    return [...this.byKind.values()];
  }
}
