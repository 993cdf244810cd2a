// One replication group: a primary StatefulSet (1 pod) and a replica StatefulSet, their headless Services,
// the write and read Services, and a disruption budget for the replicas.
//
// Roles: the StatefulSets say which pod starts as the primary of a new group (`<primary>-0`); after that the
// operator decides which pod serves as primary (failover) and labels the pods, and the write and read Services
// follow the labels. Two StatefulSets rather than one, so that apps created by earlier versions keep their
// volumes (a claim's name follows its StatefulSet's) and their immutable selectors. A replica pod that was
// promoted stays the primary while its StatefulSet exists: scaling the replicas below its ordinal removes it,
// and the operator fails over to another replica (no acknowledged write is lost, semi-sync).
//
// Volume retention: whenDeleted follows spec.database.deletionPolicy. A replica's volume is deleted when the
// replicas are scaled down, whatever the policy: it holds only a copy of the primary, and a volume kept for a
// later scale-up would come back behind binary logs the primary has purged by then, while a fresh volume
// copies the primary again. The primary is never scaled, so its whenScaled is moot (Retain).
//
// Disruption budgets: the replicas get maxUnavailable 1 when there are at least two of them (a drain then
// keeps all but one reader). Single pods (the primary, a lone replica) get none: for one pod, minAvailable 1
// blocks every node drain forever and maxUnavailable 1 allows everything.
import type { V1PodDisruptionBudget, V1StatefulSet } from '@kubernetes/client-node';
import type { DatabaseSpec, ScalableApp } from '../../api/v1alpha1/index.js';
import { MYSQL_PORT } from '../endpoints.js';
import { REPLICATION_ROLE_LABEL, type ReplicationRole, objectMeta, selectorLabels } from '../meta.js';
import type { K8sObject } from '../types.js';
import { service, volumeClaimTemplate } from '../data-tier/stateful.js';
import type { Role } from '../names.js';
import { type Group, groupLabels } from './groups.js';
import { type ConfigRef, databasePodTemplate } from './pod.js';

function statefulSet(
  app: ScalableApp,
  db: DatabaseSpec,
  group: Group,
  role: Role,
  config: ConfigRef,
): K8sObject {
  const names = group.names[role];
  const spec: V1StatefulSet['spec'] = {
    serviceName: names.headless,
    replicas: role === 'primary' ? 1 : group.replicas,
    // Replicas copy the primary independently of each other: start them all at once.
    ...(role === 'replica' ? { podManagementPolicy: 'Parallel' } : {}),
    selector: { matchLabels: selectorLabels(app, 'database', groupLabels(group, role)) },
    updateStrategy: { type: 'RollingUpdate' },
    persistentVolumeClaimRetentionPolicy: {
      whenDeleted: db.deletionPolicy,
      whenScaled: role === 'replica' ? 'Delete' : 'Retain',
    },
    volumeClaimTemplates: [volumeClaimTemplate('data', db.storage)],
    template: databasePodTemplate(app, db, group, role, config),
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: objectMeta(app, 'database', names.statefulSet, { labels: groupLabels(group, role) }),
    spec,
  };
}

function replicaBudget(app: ScalableApp, group: Group): K8sObject[] {
  if (group.replicas < 2) return [];
  const spec: V1PodDisruptionBudget['spec'] = {
    maxUnavailable: 1,
    // A replica that is not ready (e.g. its replication broke) may always be evicted.
    unhealthyPodEvictionPolicy: 'AlwaysAllow',
    selector: { matchLabels: selectorLabels(app, 'database', groupLabels(group, 'replica')) },
  };
  return [
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: objectMeta(app, 'database', group.names.replica.statefulSet, {
        labels: groupLabels(group, 'replica'),
      }),
      spec,
    },
  ];
}

/**
 * The group's Services. Each headless Service gives the pods of one StatefulSet their DNS names; the write and
 * read Services select pods by the replication-role label the operator sets (roles move on failover).
 */
function services(app: ScalableApp, group: Group): K8sObject[] {
  const svc = (name: string, role: Role, selector: Record<string, string>, headless = false) =>
    service(app, {
      name,
      component: 'database',
      port: MYSQL_PORT,
      portName: 'mysql',
      selector: selectorLabels(app, 'database', selector),
      labels: groupLabels(group, role),
      headless,
    });
  const serving = (role: ReplicationRole) => ({ ...groupLabels(group), [REPLICATION_ROLE_LABEL]: role });
  return [
    svc(group.names.primary.headless, 'primary', groupLabels(group, 'primary'), true),
    svc(group.names.replica.headless, 'replica', groupLabels(group, 'replica'), true),
    svc(group.names.primary.service, 'primary', serving('primary')),
    // Without replicas, reads go to the primary: the read URL works whatever the replica count.
    svc(group.names.replica.service, 'replica', serving(group.replicas > 0 ? 'replica' : 'primary')),
  ];
}

export function buildGroup(app: ScalableApp, db: DatabaseSpec, group: Group, config: ConfigRef): K8sObject[] {
  return [
    ...services(app, group),
    statefulSet(app, db, group, 'primary', config),
    statefulSet(app, db, group, 'replica', config),
    ...replicaBudget(app, group),
  ];
}
