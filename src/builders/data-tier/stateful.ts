// What the data tier's StatefulSets share (Redis and MySQL/MariaDB): the restricted security context, volume
// claims, config hashes and Services.
import { createHash } from 'node:crypto';
import type {
  V1PersistentVolumeClaim,
  V1PodSecurityContext,
  V1SecurityContext,
  V1Service,
} from '@kubernetes/client-node';
import type { ScalableApp } from '../../api/v1alpha1/index.js';
import { type Component, objectMeta } from '../meta.js';
import { BuildError, type K8sObject } from '../types.js';

/** The official redis, mysql and mariadb images run their server as uid/gid 999. */
export const DATA_TIER_UID = 999;

/** Pod template annotation: a hash of the mounted configuration, so that a config change rolls the pods. */
export const CONFIG_HASH_ANNOTATION = 'scalable.dev/config-hash';

/** Every object is named after the app and lives in its namespace. */
export function requireIdentity(app: ScalableApp): void {
  if (!app.metadata.name)
    throw new BuildError('metadata.name', 'is required: every object is named after the app');
  if (!app.metadata.namespace)
    throw new BuildError('metadata.namespace', 'is required: the objects live in it');
}

/** Pod Security Standards "restricted": non-root with a fixed uid, seccomp RuntimeDefault. */
export const podSecurityContext = (): V1PodSecurityContext => ({
  runAsNonRoot: true,
  runAsUser: DATA_TIER_UID,
  runAsGroup: DATA_TIER_UID,
  fsGroup: DATA_TIER_UID,
  // Changing ownership of a large volume on every start is slow; only fix it when the root is wrong.
  fsGroupChangePolicy: 'OnRootMismatch',
  seccompProfile: { type: 'RuntimeDefault' },
});

export const containerSecurityContext = (): V1SecurityContext => ({
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  runAsNonRoot: true,
  runAsUser: DATA_TIER_UID,
  runAsGroup: DATA_TIER_UID,
});

interface Storage {
  size: string | number;
  storageClassName?: string | undefined;
}

/** A ReadWriteOnce claim template; an empty storageClassName means the cluster default, so it is left out. */
export const volumeClaimTemplate = (name: string, storage: Storage): V1PersistentVolumeClaim => ({
  metadata: { name },
  spec: {
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: String(storage.size) } },
    ...(storage.storageClassName ? { storageClassName: storage.storageClassName } : {}),
  },
});

/** A short, stable hash of a ConfigMap's data (keys sorted). */
export function configHash(data: Record<string, string>): string {
  const hash = createHash('sha256');
  for (const key of Object.keys(data).sort()) hash.update(`${key}\0${data[key]}\0`);
  return hash.digest('hex').slice(0, 16);
}

interface ServiceOptions {
  name: string;
  component: Component;
  port: number;
  portName: string;
  selector: Record<string, string>;
  labels?: Record<string, string>;
  /** Headless: the governing Service of a StatefulSet, giving each pod a stable DNS name. */
  headless?: boolean;
}

export function service(app: ScalableApp, o: ServiceOptions): K8sObject {
  const spec: V1Service['spec'] = {
    type: 'ClusterIP',
    ...(o.headless ? { clusterIP: 'None', publishNotReadyAddresses: true } : {}),
    selector: { ...o.selector },
    ports: [{ name: o.portName, port: o.port, targetPort: o.portName, protocol: 'TCP' }],
  };
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: objectMeta(app, o.component, o.name, { labels: o.labels }),
    spec,
  };
}
