// `kubectl sapp status NAME`: the app's conditions, its pods per tier with their replication roles, the primary
// each replication group records and its last failover, and where clients and users reach it. Everything shown
// comes from the app's status and its pods; what neither holds (replica lag in seconds) is said to be absent.
import type { V1Pod } from '@kubernetes/client-node';
import {
  CONDITION_TYPES,
  type Condition,
  type FailoverRecord,
  type ShardMapStatus,
} from '../api/v1alpha1/index.js';
import type { LiveApp } from './app.js';
import { databaseGroups, groupOf, isReady, MAIN_GROUP, podName, podsOf, roleOf } from './pods.js';
import { age, table } from './table.js';

export interface StatusInput {
  app: LiveApp;
  pods: readonly V1Pod[];
  now: Date;
}

/** What kubectl's STATUS column would say: Terminating, a container's waiting or terminated reason, the phase. */
export function podPhase(pod: V1Pod): string {
  if (pod.metadata?.deletionTimestamp) return 'Terminating';
  const containers = pod.status?.containerStatuses ?? [];
  for (const c of containers) {
    const reason = c.state?.waiting?.reason ?? c.state?.terminated?.reason;
    if (reason) return reason;
  }
  return pod.status?.reason ?? pod.status?.phase ?? 'Unknown';
}

const containersReady = (pod: V1Pod) => {
  const statuses = pod.status?.containerStatuses ?? [];
  const total = pod.spec?.containers?.length ?? statuses.length;
  return `${statuses.filter((c) => c.ready).length}/${total}`;
};

const restarts = (pod: V1Pod) =>
  String((pod.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0));

type Column = { header: string; cell: (pod: V1Pod) => string };

function podTable(pods: readonly V1Pod[], now: Date, extra: Column[] = []): string {
  const columns: Column[] = [
    { header: 'POD', cell: podName },
    ...extra,
    { header: 'READY', cell: containersReady },
    { header: 'STATUS', cell: podPhase },
    { header: 'RESTARTS', cell: restarts },
    { header: 'AGE', cell: (p) => age(p.metadata?.creationTimestamp, now) },
    { header: 'NODE', cell: (p) => p.spec?.nodeName ?? '<none>' },
  ];
  return table([columns.map((c) => c.header), ...pods.map((p) => columns.map((c) => c.cell(p)))]);
}

const ROLE: Column = { header: 'ROLE', cell: (p) => roleOf(p) ?? '<unlabelled>' };
const groupName = (group: string) => (group === MAIN_GROUP ? group : `shard ${group}`);
const GROUP: Column = { header: 'GROUP', cell: (p) => groupName(groupOf(p)) };

function header(app: LiveApp): string[] {
  const s = app.status;
  const ready = s?.conditions?.find((c) => c.type === 'Ready');
  const field = (name: string, value: string) => `${`${name}:`.padEnd(12)}${value}`;
  const observed = s?.observedGeneration;
  return [
    field('Name', app.metadata.name),
    field('Namespace', app.metadata.namespace),
    field('Ready', ready ? `${ready.status} (${ready.reason})` : 'Unknown (not reported yet)'),
    field('URL', s?.url ?? '<none>'),
    field('Exposure', s?.exposure?.mechanism ?? '<not reported>'),
    field(
      'Generation',
      `${app.metadata.generation ?? '?'}, observed ${observed ?? 'none yet'}${
        observed !== undefined && observed !== app.metadata.generation ? ' (the operator is catching up)' : ''
      }`,
    ),
    ...(app.metadata.deletionTimestamp ? [field('Deleting', `since ${app.metadata.deletionTimestamp}`)] : []),
  ];
}

function conditions(list: readonly Condition[], now: Date): string[] {
  const rank = (c: Condition) => {
    const i = (CONDITION_TYPES as readonly string[]).indexOf(c.type);
    return i < 0 ? CONDITION_TYPES.length : i;
  };
  const sorted = [...list].sort((a, b) => rank(a) - rank(b));
  return [
    'Conditions:',
    table([
      ['TYPE', 'STATUS', 'REASON', 'AGE', 'MESSAGE'],
      ...sorted.map((c) => [c.type, c.status, c.reason, age(c.lastTransitionTime, now), c.message]),
    ]),
  ];
}

const failoverText = (f: FailoverRecord | undefined) =>
  f ? `${f.time} ${f.from} -> ${f.to}: ${f.reason}` : 'none recorded';

/** "X (ready)", noting when the pods labelled primary are not just the one status records. */
function primaryText(recorded: string | undefined, pods: readonly V1Pod[], ready?: boolean): string {
  const labelled = pods.filter((p) => roleOf(p) === 'primary').map(podName);
  const name = recorded ?? labelled[0] ?? '<not recorded yet>';
  const pod = pods.find((p) => podName(p) === name);
  const state = ready ?? (pod ? isReady(pod) : undefined);
  const mismatch =
    recorded && labelled.length > 0 && !(labelled.length === 1 && labelled[0] === recorded)
      ? `; labelled primary: ${labelled.join(', ')}`
      : '';
  return `${name}${state === undefined ? '' : state ? ' (ready)' : ' (not ready)'}${mismatch}`;
}

/** Replicas of a group as "ready/all" from its pods' labels. */
function replicaCount(pods: readonly V1Pod[]): string {
  const replicas = pods.filter((p) => roleOf(p) === 'replica');
  return replicas.length ? `${replicas.filter(isReady).length}/${replicas.length} ready` : 'none';
}

function database(app: LiveApp, pods: readonly V1Pod[], now: Date): string[] {
  const db = app.status?.database;
  const groups = databaseGroups(pods);
  if (!db && groups.size === 0) return [];
  const engine = db?.engine ?? app.spec?.database?.engine;
  const lines = [`Database${engine ? ` (${engine})` : ''}: ${db?.ready ?? '?'} ready`];
  if (db) {
    const r = db.replicas;
    const rows = [
      ['GROUP', 'PRIMARY', 'WRITE', 'READ', 'REPLICAS'],
      [
        MAIN_GROUP,
        primaryText(db.primary.pod, groups.get(MAIN_GROUP) ?? [], db.primary.ready),
        db.primary.endpoint ?? '?',
        r.endpoint ?? db.primary.endpoint ?? '?',
        r.replicas > 0 ? `${r.readyReplicas}/${r.replicas} ready` : 'none',
      ],
      ...(db.shards ?? []).map((s) => {
        const shardPods = groups.get(String(s.index)) ?? [];
        return [
          groupName(String(s.index)),
          primaryText(s.primaryPod, shardPods),
          s.writeEndpoint ?? '?',
          s.readEndpoint ?? '?',
          replicaCount(shardPods),
        ];
      }),
    ];
    lines.push(table(rows), '  Last failover:');
    lines.push(
      `    ${MAIN_GROUP}: ${failoverText(db.primary.lastFailover)}`,
      ...(db.shards ?? []).map((s) => `    ${groupName(String(s.index))}: ${failoverText(s.lastFailover)}`),
    );
    if (db.shardMap) lines.push(shardMapText(db.shardMap));
  }
  const all = [...groups.values()].flat();
  if (all.length) lines.push(podTable(all, now, [GROUP, ROLE]));
  lines.push(
    '  Replica lag: not reported in status. A replica is Ready only while both replication threads run and it',
    '  is at most 60 s behind its primary (its readiness probe), so READY 1/1 on a replica bounds its lag.',
  );
  return lines;
}

/** "Shard map: version 7, 3 shards, moving 96/341 buckets (longest write pause 812 ms): ..." */
function shardMapText(m: ShardMapStatus): string {
  const target = m.shards === 0 ? 'the main database only' : `${m.shards} shards`;
  const pause = m.maxBatchPauseMs !== undefined ? ` (longest write pause ${m.maxBatchPauseMs} ms)` : '';
  const state =
    m.state === 'idle'
      ? 'current'
      : `${m.state} ${m.movedBuckets}/${m.totalBuckets} buckets${pause}: ${m.message}`;
  return `  Shard map: version ${m.version}, ${target}, ${state}`;
}

function cache(app: LiveApp, pods: readonly V1Pod[], now: Date): string[] {
  const c = app.status?.cache;
  const cachePods = podsOf(pods, 'cache');
  if (!c && cachePods.length === 0) return [];
  return [
    `Cache (redis): ${c?.ready ?? '?'} ready${c?.endpoint ? `, at ${c.endpoint}` : ''}`,
    ...(cachePods.length ? [podTable(cachePods, now, [ROLE])] : []),
  ];
}

function web(app: LiveApp, pods: readonly V1Pod[], now: Date): string[] {
  const w = app.status?.web;
  const webPods = podsOf(pods, 'web');
  const summary = w ? `${w.readyReplicas}/${w.desiredReplicas} ready (${w.replicas} exist)` : '? ready';
  return [`Web: ${summary}`, webPods.length ? podTable(webPods, now) : '  no pods'];
}

function workers(pods: readonly V1Pod[], now: Date): string[] {
  const list = podsOf(pods, 'workers');
  if (list.length === 0) return [];
  return [`Workers: ${list.filter(isReady).length}/${list.length} ready`, podTable(list, now)];
}

/** The whole `status` text. */
export function formatStatus({ app, pods, now }: StatusInput): string {
  const sections = [
    header(app),
    app.status?.conditions?.length
      ? conditions(app.status.conditions, now)
      : ['Conditions: none reported yet (is the operator running and watching this namespace?)'],
    web(app, pods, now),
    workers(pods, now),
    database(app, pods, now),
    cache(app, pods, now),
  ].filter((s) => s.length > 0);
  return `${sections.map((s) => s.join('\n')).join('\n\n')}\n`;
}
