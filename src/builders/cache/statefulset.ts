// The Redis StatefulSet: the primary and its replicas (1 + spec.cache.replicas pods), their config from the
// ConfigMap, their data on claimed volumes unless persistence is none. One StatefulSet whatever the replica
// count, so an app created with a single Redis keeps its StatefulSet, selector and volume (data-<sts>-0) when
// it gains replicas. Which pod is the primary is the operator's label (REPLICATION_ROLE_LABEL), never the
// template's: a label in the template would come back on a recreated pod, and could be wrong by then.
import type { V1StatefulSet, V1Volume } from '@kubernetes/client-node';
import type { CacheSpec, ScalableApp } from '../../api/v1alpha1/index.js';
import { CREDENTIAL_KEYS } from '../credentials.js';
import {
  CONFIG_HASH_ANNOTATION,
  configHash,
  containerSecurityContext,
  podSecurityContext,
  volumeClaimTemplate,
} from '../data-tier/stateful.js';
import { REDIS_PORT } from '../endpoints.js';
import { labels, objectMeta, selectorLabels } from '../meta.js';
import { type CacheNames, credentialsSecretName } from '../names.js';
import {
  containerSecurityContextWith,
  podAnnotations,
  podLabels,
  podSecurityContextWith,
  podSpecOptions,
} from '../pod-options.js';
import { resourceRequirements } from '../resources.js';
import type { K8sObject } from '../types.js';
import { CONFIG_DIR } from './config.js';

const DATA_DIR = '/data';

const probe = (mode: 'ready' | 'alive') => ({
  exec: { command: ['sh', `${CONFIG_DIR}/ping.sh`, mode] },
  timeoutSeconds: 5,
});

export function cacheStatefulSet(
  app: ScalableApp,
  cache: CacheSpec,
  names: CacheNames,
  configData: Record<string, string>,
): K8sObject {
  const persistent = cache.persistence !== 'none';
  const dataVolume: V1Volume[] = persistent ? [] : [{ name: 'data', emptyDir: {} }];
  const resources = resourceRequirements(cache.resources);
  const pod = { options: cache.pod, field: 'spec.cache.pod' };
  const password = {
    valueFrom: { secretKeyRef: { name: credentialsSecretName(app), key: CREDENTIAL_KEYS.cachePassword } },
  };
  const spec: V1StatefulSet['spec'] = {
    serviceName: names.headless,
    replicas: 1 + cache.replicas,
    selector: { matchLabels: selectorLabels(app, 'cache') },
    updateStrategy: { type: 'RollingUpdate' },
    ...(persistent
      ? {
          // The cache's volumes follow the database's deletion policy (Retain when there is no database).
          // Scaled-down pods keep theirs: the highest ordinal may have been the primary, and a replica that
          // comes back copies the primary again anyway.
          persistentVolumeClaimRetentionPolicy: {
            whenDeleted: app.spec.database?.deletionPolicy ?? 'Retain',
            whenScaled: 'Retain',
          },
          volumeClaimTemplates: [volumeClaimTemplate('data', cache.storage)],
        }
      : {}),
    template: {
      metadata: {
        labels: podLabels(labels(app, 'cache'), pod),
        annotations: podAnnotations({ [CONFIG_HASH_ANNOTATION]: configHash(configData) }, pod),
      },
      spec: {
        securityContext: podSecurityContextWith(podSecurityContext(), pod),
        // Redis never talks to the API server.
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        ...podSpecOptions(pod),
        terminationGracePeriodSeconds: 30,
        containers: [
          {
            name: 'redis',
            image: cache.image,
            command: ['sh', `${CONFIG_DIR}/start.sh`, `${CONFIG_DIR}/redis.conf`],
            // start.sh hands REDIS_PASSWORD to Redis on stdin; redis-cli in the probes reads REDISCLI_AUTH.
            // PRIMARY_HOST:PRIMARY_PORT (the client Service, which follows the primary): start.sh starts a
            // replica of the server answering there, or a primary when none does.
            env: [
              { name: 'REDIS_PASSWORD', ...password },
              { name: 'REDISCLI_AUTH', ...password },
              { name: 'PRIMARY_HOST', value: names.client },
              { name: 'PRIMARY_PORT', value: String(REDIS_PORT) },
            ],
            // redis.conf has no `dir`: Redis keeps its files in the working directory, the data volume.
            workingDir: DATA_DIR,
            ports: [{ name: 'redis', containerPort: REDIS_PORT, protocol: 'TCP' }],
            readinessProbe: { ...probe('ready'), periodSeconds: 5, failureThreshold: 2 },
            livenessProbe: {
              ...probe('alive'),
              initialDelaySeconds: 10,
              periodSeconds: 10,
              failureThreshold: 6,
            },
            ...(resources ? { resources } : {}),
            securityContext: containerSecurityContextWith(containerSecurityContext(), pod),
            volumeMounts: [
              { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
              { name: 'data', mountPath: DATA_DIR },
            ],
          },
        ],
        volumes: [{ name: 'config', configMap: { name: names.config } }, ...dataVolume],
      },
    },
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: objectMeta(app, 'cache', names.statefulSet),
    spec,
  };
}
