// The pod of a database server: start.sh writes the server's config and checks the data directory, then runs
// the image's own entrypoint (which initializes an empty data directory and runs the bootstrap once); the
// probes are scripts too. The template carries no replication-role label: the operator sets it on each pod
// (a label in the template would come back on a recreated pod, and could be wrong after a failover).
import type { V1Affinity, V1EnvVar, V1PodTemplateSpec, V1Probe } from '@kubernetes/client-node';
import type { DatabaseSpec, ScalableApp } from '../../api/v1alpha1/index.js';
import { DEFAULT_IMAGES } from '../../api/v1alpha1/index.js';
import { APP_USER, CREDENTIAL_KEYS, OPERATOR_USER, REPLICATION_USER } from '../credentials.js';
import {
  CONFIG_HASH_ANNOTATION,
  containerSecurityContext,
  podSecurityContext,
} from '../data-tier/stateful.js';
import { MYSQL_PORT } from '../endpoints.js';
import { labels, selectorLabels } from '../meta.js';
import { credentialsSecretName, type Role } from '../names.js';
import {
  containerSecurityContextWith,
  podAnnotations,
  podLabels,
  podSecurityContextWith,
  podSpecOptions,
} from '../pod-options.js';
import { resourceRequirements } from '../resources.js';
import { type Group, groupLabels } from './groups.js';

/** The database ConfigMap: its name, and the hash of its data that the pods carry. */
export interface ConfigRef {
  name: string;
  hash: string;
}

/** Where the pod mounts its volumes. */
export const PATHS = {
  config: '/config',
  confD: '/etc/mysql/conf.d',
  volume: '/volume',
  dataDir: '/var/lib/mysql',
  initdb: '/docker-entrypoint-initdb.d',
} as const;

/** The server command of each image (its default CMD), which start.sh hands to the image's entrypoint. */
const SERVER_COMMAND: Record<DatabaseSpec['engine'], string> = { mysql: 'mysqld', mariadb: 'mariadbd' };

/** The data directory is a subdirectory of the volume: the volume's root holds the bootstrap marker (and a
 * fresh filesystem's lost+found, which would make the directory look initialized). */
const DATA_SUBPATH = 'mysql';

const script = (name: string) => ['bash', `${PATHS.config}/${name}`];

const probe = (name: string, periodSeconds: number, failureThreshold: number): V1Probe => ({
  exec: { command: script(name) },
  periodSeconds,
  timeoutSeconds: 5,
  failureThreshold,
});

const value = (name: string, v: string | number): V1EnvVar => ({ name, value: String(v) });

function env(app: ScalableApp, db: DatabaseSpec, group: Group, role: Role): V1EnvVar[] {
  const secret = credentialsSecretName(app);
  const password = (key: string): V1EnvVar => ({
    name: key,
    valueFrom: { secretKeyRef: { name: secret, key } },
  });
  return [
    value('ENGINE', db.engine),
    value('ROLE', role),
    value('SERVER_ID_BASE', group.serverIdBase[role]),
    value('APP_DATABASE', db.databaseName),
    value('APP_USER', APP_USER),
    value('REPLICATION_USER', REPLICATION_USER),
    value('OPERATOR_USER', OPERATOR_USER),
    // The group's write Service: a replica's bootstrap copies it, and a primary pod whose volume was replaced
    // after a failover finds the new primary there.
    value('PRIMARY_HOST', group.names.primary.service),
    value('PRIMARY_PORT', MYSQL_PORT),
    // Time zone tables would differ between servers: a replica copies only the application databases.
    value('MYSQL_INITDB_SKIP_TZINFO', 1),
    // The images read MYSQL_ROOT_PASSWORD (MariaDB's also as MARIADB_ROOT_PASSWORD) on their first start,
    // and create root@'%' too unless MYSQL_ROOT_HOST (MariaDB's also MARIADB_ROOT_HOST) says otherwise: every
    // script of the operator connects as root over the local socket, so root is local only.
    value('MYSQL_ROOT_HOST', 'localhost'),
    password(CREDENTIAL_KEYS.rootPassword),
    password(CREDENTIAL_KEYS.replicationPassword),
    password(CREDENTIAL_KEYS.appPassword),
    password(CREDENTIAL_KEYS.operatorPassword),
  ];
}

export function databasePodTemplate(
  app: ScalableApp,
  db: DatabaseSpec,
  group: Group,
  role: Role,
  config: ConfigRef,
): V1PodTemplateSpec {
  const resources = resourceRequirements(db.resources);
  const pod = { options: db.pod, field: 'spec.database.pod' };
  // Spread the servers of a group over nodes, so that one node going away leaves readers (a podAntiAffinity
  // of the user's replaces it).
  const spread: V1Affinity = {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          podAffinityTerm: {
            topologyKey: 'kubernetes.io/hostname',
            labelSelector: { matchLabels: selectorLabels(app, 'database', groupLabels(group)) },
          },
        },
      ],
    },
  };
  return {
    metadata: {
      labels: podLabels(labels(app, 'database', groupLabels(group, role)), pod),
      annotations: podAnnotations({ [CONFIG_HASH_ANNOTATION]: config.hash }, pod),
    },
    spec: {
      securityContext: podSecurityContextWith(podSecurityContext(), pod),
      // The server never talks to the API server.
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      // InnoDB shuts down cleanly within this; a kill afterwards costs a crash recovery, not data.
      terminationGracePeriodSeconds: 60,
      ...podSpecOptions(pod, { affinity: spread }),
      containers: [
        {
          name: db.engine,
          image: db.image || DEFAULT_IMAGES[db.engine],
          command: script('start.sh'),
          args: [SERVER_COMMAND[db.engine]],
          ports: [{ name: 'mysql', containerPort: MYSQL_PORT, protocol: 'TCP' }],
          env: env(app, db, group, role),
          // The image's temporary server answers pings while it bootstraps (a replica's copy can take long).
          startupProbe: probe('liveness.sh', 10, 90),
          livenessProbe: probe('liveness.sh', 10, 6),
          readinessProbe: probe('readiness.sh', 5, 3),
          ...(resources ? { resources } : {}),
          securityContext: containerSecurityContextWith(containerSecurityContext(), pod),
          volumeMounts: [
            { name: 'data', mountPath: PATHS.dataDir, subPath: DATA_SUBPATH },
            { name: 'data', mountPath: PATHS.volume },
            { name: 'config', mountPath: PATHS.config, readOnly: true },
            { name: 'conf', mountPath: PATHS.confD },
            { name: 'initdb', mountPath: PATHS.initdb, readOnly: true },
          ],
        },
      ],
      volumes: [
        { name: 'config', configMap: { name: config.name, defaultMode: 0o555 } },
        { name: 'conf', emptyDir: {} },
        {
          // Executable, so the entrypoint runs it in its own shell instead of sourcing it.
          name: 'initdb',
          configMap: {
            name: config.name,
            defaultMode: 0o555,
            items: [{ key: 'bootstrap.sh', path: '50-bootstrap.sh' }],
          },
        },
      ],
    },
  };
}
