// Deleting what the app no longer asks for: cached objects of this app instance that carry this app's controller
// owner reference and are not desired. Objects without that reference (another owner's, a user's, the
// credentials Secret kept on Retain) are never deleted.
import type { Logger } from 'pino';
import type { ScalableApp } from '../api/v1alpha1/index.js';
import { INSTANCE_LABEL } from '../builders/meta.js';
import type { K8sObject } from '../builders/types.js';
import type { KubeClient } from '../kube/client.js';
import { isNotFound } from '../kube/errors.js';
import { SCALABLE_APP, objectKey, objectPath, resourceFor } from '../kube/resources.js';
import type { Caches } from './caches.js';

/** Deletes the app's undesired objects; returns `Kind/name` of each one deleted. */
export async function pruneUndesired(
  client: KubeClient,
  caches: Caches,
  app: ScalableApp,
  desired: readonly K8sObject[],
  log: Logger,
): Promise<string[]> {
  const keep = new Set(desired.map(objectKey));
  const pruned: string[] = [];
  for (const kind of caches.kinds) {
    if (kind === SCALABLE_APP.kind) continue;
    for (const obj of caches.list(kind, app.metadata.namespace!)) {
      if (obj.metadata?.labels?.[INSTANCE_LABEL] !== app.metadata.name) continue;
      if (!obj.metadata?.ownerReferences?.some((r) => r.uid === app.metadata.uid && r.controller)) continue;
      if (keep.has(objectKey(obj))) continue;
      try {
        await client.request(
          'DELETE',
          objectPath(resourceFor(obj.apiVersion!, obj.kind!), obj.metadata.namespace!, obj.metadata.name!),
          { body: { propagationPolicy: 'Background', preconditions: { uid: obj.metadata.uid } } },
        );
        pruned.push(`${obj.kind}/${obj.metadata.name}`);
        log.info({ object: objectKey(obj) }, 'pruned');
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }
  return pruned;
}
