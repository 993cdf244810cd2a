import { describe, expect, it } from '@jest/globals';
import type { KubernetesObject } from '@kubernetes/client-node';
import { Caches, type Store } from './caches.js';

/** A fixed cache of one kind, standing in for an informer. */
function store(kind: string, namespace: string | undefined, names: string[]): Store {
  const objects: KubernetesObject[] = names.map((n) => {
    const [ns, name] = n.split('/') as [string, string];
    return { kind, metadata: { namespace: ns, name } };
  });
  return {
    kind,
    namespace,
    get: (ns, name) => objects.find((o) => o.metadata?.namespace === ns && o.metadata.name === name),
    list: (ns) => objects.filter((o) => ns === undefined || o.metadata?.namespace === ns),
  };
}

describe('Caches', () => {
  it('reads each namespace from its own cache when watching a list of namespaces', () => {
    const caches = new Caches();
    caches.add(store('ConfigMap', 'a', ['a/one']));
    caches.add(store('ConfigMap', 'b', ['b/two']));
    expect(caches.get('ConfigMap', 'a', 'one')?.metadata?.name).toBe('one');
    expect(caches.get('ConfigMap', 'b', 'two')?.metadata?.name).toBe('two');
    expect(caches.get('ConfigMap', 'b', 'one')).toBeUndefined();
    expect(caches.get('ConfigMap', 'c', 'one')).toBeUndefined();
    expect(caches.list('ConfigMap', 'a').map((o) => o.metadata?.name)).toEqual(['one']);
    expect(caches.list('ConfigMap').map((o) => o.metadata?.name)).toEqual(['one', 'two']);
    expect(caches.informer('ConfigMap', 'b')?.namespace).toBe('b');
    expect(caches.informer('ConfigMap')).toBeUndefined();
    expect(caches.informers('ConfigMap')).toHaveLength(2);
    expect(caches.kinds).toEqual(['ConfigMap']);
    expect(caches.all).toHaveLength(2);
  });

  it('reads every namespace from one cluster-wide cache', () => {
    const caches = new Caches();
    caches.add(store('Secret', undefined, ['a/s', 'b/t']));
    expect(caches.get('Secret', 'b', 't')?.metadata?.name).toBe('t');
    expect(caches.list('Secret', 'a').map((o) => o.metadata?.name)).toEqual(['s']);
    expect(caches.informer('Secret')?.namespace).toBeUndefined();
  });

  it('refuses a second cache of the same kind and namespace', () => {
    const caches = new Caches();
    caches.add(store('Secret', 'a', []));
    expect(() => caches.add(store('Secret', 'a', []))).toThrow('a Secret cache for a is already added');
  });
});
