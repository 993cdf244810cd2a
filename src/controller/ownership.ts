// What exists of each desired object, and whether it is this app's to change. The caches hold only objects with
// the managed-by label, so a desired object missing from them may still exist: created by someone else, or by
// this operator a moment ago. Its dry run tells (apply.ts), and when it exists it is read once from the API
// server before anything is applied (404: absent; any other error fails the pass, it is not an absence). An object that exists is this app's only when it carries the
// app's controller owner reference (the uid, not just a label anyone can set), or when it is the credentials
// Secret kept on `deletionPolicy: Retain`, which has no owner reference by design and is known by its name and
// labels. Any other object is left alone: the app reports it instead of taking it over.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ScalableApp } from '../api/v1alpha1/index.js';
import { INSTANCE_LABEL, MANAGED_BY, MANAGED_BY_LABEL } from '../builders/meta.js';
import { credentialsSecretName } from '../builders/names.js';
import type { K8sObject } from '../builders/types.js';
import type { KubeClient } from '../kube/client.js';
import { isNotFound } from '../kube/errors.js';
import { objectKey, objectPath, resourceFor } from '../kube/resources.js';
import type { Failure } from './apply.js';
import type { Caches } from './caches.js';

type Ref = Pick<K8sObject, 'apiVersion' | 'kind' | 'metadata'>;
export type LiveObject = KubernetesObject & Record<string, unknown>;

/**
 * The live objects one pass sees: the caches, what the pass read from the API server (a cache miss its dry run
 * found, or an object the cache says is someone else's: the cache may lag behind a deletion), and what its
 * applies answered. A read or an apply's answer wins over the cache.
 */
export class LiveObjects {
  private readonly read = new Map<string, LiveObject | undefined>();

  constructor(
    private readonly caches: Caches,
    private readonly client: KubeClient,
  ) {}

  /** What is known without a request: what this pass read, else the cache. */
  known(o: Ref): LiveObject | undefined {
    const key = objectKey(o);
    if (this.read.has(key)) return this.read.get(key);
    return this.caches.get(o.kind, o.metadata.namespace ?? '', o.metadata.name) as LiveObject | undefined;
  }

  /** What the apply of `o` answered: the object as the API server has it now. */
  remember(o: Ref, answer: LiveObject): void {
    this.read.set(objectKey(o), answer);
  }

  /** The live object: known, else read from the API server; undefined when it does not exist. */
  async get(o: Ref): Promise<LiveObject | undefined> {
    return this.known(o) ?? this.fetch(o);
  }

  /** The object as the API server has it now (read once per pass); undefined when it does not exist. */
  async fetch(o: Ref): Promise<LiveObject | undefined> {
    const key = objectKey(o);
    if (this.read.has(key)) return this.read.get(key);
    let live: LiveObject | undefined;
    try {
      const path = objectPath(resourceFor(o.apiVersion, o.kind), o.metadata.namespace!, o.metadata.name);
      live = await this.client.request<LiveObject>('GET', path);
    } catch (err) {
      if (!isNotFound(err)) throw err; // a failed read is an error, not an absence
    }
    this.read.set(key, live);
    return live;
  }
}

/** Whether `live` is this app's: its controller reference names the app's uid, or it is the retained credentials. */
export function ownedBy(live: KubernetesObject, app: ScalableApp): boolean {
  const controller = live.metadata?.ownerReferences?.find((r) => r.controller);
  if (controller) return controller.uid === app.metadata.uid;
  return isRetainedCredentials(live, app);
}

/** The credentials Secret of this app instance left without an owner on `deletionPolicy: Retain`. */
function isRetainedCredentials(live: KubernetesObject, app: ScalableApp): boolean {
  const labels = live.metadata?.labels ?? {};
  return (
    live.kind === 'Secret' &&
    live.metadata?.name === credentialsSecretName(app) &&
    labels[MANAGED_BY_LABEL] === MANAGED_BY &&
    labels[INSTANCE_LABEL] === app.metadata.name
  );
}

/** Degraded, naming every object the app would have to take over. */
export function notOwned(foreign: readonly K8sObject[]): Failure {
  const names = foreign.map((o) => `${o.kind} ${o.metadata.name}`);
  return {
    reason: 'NotOwned',
    message: `${names.join(', ')} ${names.length === 1 ? 'exists and is' : 'exist and are'} not owned by this ScalableApp: delete ${names.length === 1 ? 'it' : 'them'} or rename the app`,
  };
}
