// The replication groups the monitor watches, each described the same way: which pods are its members and how
// the operator and the other servers reach them, which StatefulSet holds its record (and whose pod -0 is the
// primary of a new group), and one pass of its engine (SQL for MySQL/MariaDB, RESP for Redis).
import type { V1Pod } from '@kubernetes/client-node';
import type { ScalableApp } from '../api/v1alpha1/index.js';
import { OPERATOR_USER, REPLICATION_USER } from '../builders/credentials.js';
import { type Group, groups } from '../builders/database/groups.js';
import { MYSQL_PORT, REDIS_PORT } from '../builders/endpoints.js';
import { COMPONENT_LABEL, INSTANCE_LABEL, REPLICATION_ROLE_LABEL, SHARD_LABEL } from '../builders/meta.js';
import { cacheNames } from '../builders/names.js';
import type { Credentials } from '../builders/types.js';
import type { Decision, FailoverSettings } from '../replication/decide.js';
import type { Hooks, MemberEndpoint, Step } from '../replication/executor.js';
import { type GroupMemory, groupPass } from '../replication/group-pass.js';
import type { RedisDecision } from '../replication/redis.js';
import { redisGroupPass } from '../replication/redis-pass.js';
import { DEMOTE_ANNOTATION } from './replication-record.js';

/** What a pass saw of each member, as far as the monitor reports it. */
export interface Observed {
  pod: string;
  reachable: boolean;
  readOnly?: boolean;
  semiSyncActive?: boolean;
}

export interface PassOutcome {
  observed: Observed[];
  decision: Decision | RedisDecision;
  steps: Step[];
  primary: string;
}

export type Pass = (
  members: MemberEndpoint[],
  primary: string,
  memory: GroupMemory,
  hooks: Hooks,
) => Promise<PassOutcome>;

export interface ReplicationGroup {
  /** Unique within the app: "db/main", "db/0", "cache". */
  id: string;
  tier: 'database' | 'cache';
  /** For people: "main", "shard 0", "redis". */
  name: string;
  /** The StatefulSet whose annotations record the primary; without a record its pod -0 is the primary. */
  recordHolder: string;
  /** Waits for acknowledgements from replicas (a fallback to async is worth a warning). */
  semiSync: boolean;
  includes(pod: V1Pod, app: string): boolean;
  /** Members in a stable order (the record holder's pods first). */
  order(pod: V1Pod): number;
  member(pod: V1Pod, ordinal: number, primary: string): MemberEndpoint;
  run: Pass;
}

const TIMEOUTS = { connectMs: 1000, queryMs: 3000 };

const podReady = (p: V1Pod) =>
  (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

const ordinalOf = (p: V1Pod) => {
  const name = p.metadata?.name ?? '';
  return Number(name.slice(name.lastIndexOf('-') + 1)) || 0;
};

const baseMember = (p: V1Pod, ordinal: number, port: number) => ({
  pod: p.metadata!.name!,
  ordinal,
  host: p.status?.podIP ?? '',
  port,
  role: (p.metadata?.labels?.[REPLICATION_ROLE_LABEL] === 'primary' ? 'primary' : 'replica') as
    'primary' | 'replica',
  ready: podReady(p),
  nodeReady: true,
});

function databaseGroup(
  app: ScalableApp,
  group: Group,
  credentials: Credentials,
  pass: typeof groupPass,
): ReplicationGroup {
  const db = app.spec.database!;
  const settings: FailoverSettings = {
    unreachableSeconds: db.failover.unreachableSeconds,
    minSecondsBetweenFailovers: db.failover.minSecondsBetweenFailovers,
    maxLagSeconds: 30,
  };
  const cfg = {
    engine: db.engine,
    operator: { user: OPERATOR_USER, password: credentials.operatorPassword },
    replication: { user: REPLICATION_USER, password: credentials.replicationPassword },
    timeouts: TIMEOUTS,
    applyTimeoutSeconds: 30,
    semiSync: group.replicas > 0,
    lockWaitSeconds: 2,
  };
  const { primary, replica } = group.names;
  const ofPrimarySet = (p: V1Pod) => (p.metadata?.name ?? '').startsWith(`${primary.statefulSet}-`);
  return {
    id: `db/${group.shardLabel}`,
    tier: 'database',
    name: group.shard === undefined ? 'main' : `shard ${group.shard}`,
    recordHolder: primary.statefulSet,
    semiSync: cfg.semiSync,
    includes: (p, name) => {
      const l = p.metadata?.labels ?? {};
      return (
        l[INSTANCE_LABEL] === name && l[COMPONENT_LABEL] === 'database' && l[SHARD_LABEL] === group.shardLabel
      );
    },
    order: (p) => (ofPrimarySet(p) ? 0 : 1000) + ordinalOf(p),
    member: (p, ordinal, recorded) => ({
      ...baseMember(p, ordinal, MYSQL_PORT),
      // A name that follows the pod across restarts (its IP does not).
      replicationHost: `${p.metadata!.name}.${ofPrimarySet(p) ? primary.headless : replica.headless}`,
      // Replicas bootstrapped by the scripts follow the write Service, which selects the recorded primary.
      aliases: p.metadata!.name === recorded ? [primary.service] : [],
      ...(p.metadata?.annotations?.[DEMOTE_ANNOTATION] === 'true' ? { demote: true } : {}),
    }),
    run: (members, recorded, memory, hooks) => pass(members, recorded, memory, settings, cfg, hooks),
  };
}

function cacheGroup(app: ScalableApp, credentials: Credentials): ReplicationGroup {
  const names = cacheNames(app);
  const db = app.spec.database;
  // Redis follows the database's failover settings when there is one; the defaults otherwise.
  const settings: FailoverSettings = {
    unreachableSeconds: db?.failover.unreachableSeconds ?? 10,
    minSecondsBetweenFailovers: db?.failover.minSecondsBetweenFailovers ?? 60,
    maxLagSeconds: 30,
  };
  const cfg = { password: credentials.cachePassword, timeouts: TIMEOUTS };
  return {
    id: 'cache',
    tier: 'cache',
    name: 'redis',
    recordHolder: names.statefulSet,
    semiSync: false,
    includes: (p, name) =>
      p.metadata?.labels?.[INSTANCE_LABEL] === name && p.metadata?.labels?.[COMPONENT_LABEL] === 'cache',
    order: ordinalOf,
    member: (p, ordinal, recorded) => ({
      ...baseMember(p, ordinal, REDIS_PORT),
      replicationHost: `${p.metadata!.name}.${names.headless}`,
      aliases: p.metadata!.name === recorded ? [names.client] : [],
    }),
    run: (members, recorded, memory, hooks) =>
      redisGroupPass(members, recorded, memory, settings, cfg, hooks),
  };
}

/** The app's replication groups: every database group, and Redis when it has replicas. */
export function replicationGroups(
  app: ScalableApp,
  credentials: Credentials,
  pass: typeof groupPass = groupPass,
): ReplicationGroup[] {
  if (app.spec.paused) return [];
  const db = app.spec.database;
  return [
    ...(db?.enabled ? groups(app, db).map((g) => databaseGroup(app, g, credentials, pass)) : []),
    ...(app.spec.cache?.enabled && app.spec.cache.replicas > 0 ? [cacheGroup(app, credentials)] : []),
  ];
}
