// The replication monitor: the only actor that changes who is primary. Every replication group of every app the
// reconciler tracks (the main group and each shard) gets a pass every intervalMs: its members from the pod cache,
// the recorded primary from its StatefulSet (replication-record.ts), then groupPass observes the servers over
// SQL, decides and acts. After each pass the pods' replication-role labels follow the primary (the write and
// read Services select by them). A failover is recorded before any replica follows the new primary, and is
// reported as a Warning event, in metrics and (through a reconcile) in status.
//
// Requests: a pass reads only caches and the servers; it writes only when something changes (a label that
// differs, a record, a fenced pod's deletion).
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { DatabaseSpec, ScalableApp } from '../api/v1alpha1/index.js';
import { KIND } from '../api/v1alpha1/index.js';
import { OPERATOR_USER, REPLICATION_USER } from '../builders/credentials.js';
import { cacheNames } from '../builders/names.js';
import { groups, type Group } from '../builders/database/groups.js';
import { MYSQL_PORT } from '../builders/endpoints.js';
import {
  COMPONENT_LABEL,
  INSTANCE_LABEL,
  REPLICATION_ROLE_LABEL,
  type ReplicationRole,
  SHARD_LABEL,
} from '../builders/meta.js';
import type { Credentials } from '../builders/types.js';
import type { KubeClient } from '../kube/client.js';
import { isNotFound } from '../kube/errors.js';
import { DATA_TIER_POD, objectPath, resourceFor, VOLUME_CLAIM } from '../kube/resources.js';
import type { FailoverSettings } from '../replication/decide.js';
import type { ExecutorConfig, Hooks, MemberEndpoint } from '../replication/executor.js';
import { type GroupMemory, groupPass } from '../replication/group-pass.js';
import type { Metrics } from '../runtime/metrics.js';
import type { Caches } from './caches.js';
import type { EventRecorder } from './events.js';
import { DEMOTE_ANNOTATION, MONITOR_FIELD_MANAGER, recordOf, recordPatch } from './replication-record.js';

const MERGE_PATCH = 'application/merge-patch+json';
const DEFAULT_INTERVAL_MS = 2000;

export interface MonitorDeps {
  client: KubeClient;
  caches: Caches;
  log: Logger;
  events: EventRecorder;
  metrics: Metrics;
  /** Reconcile the app again (its status shows what the monitor saw). */
  enqueue(key: string): void;
  intervalMs?: number;
  /** One pass over a group; the SQL groupPass unless a test simulates the servers. */
  pass?: typeof groupPass;
}

interface Tracked {
  key: string;
  group: Group;
  engine: DatabaseSpec['engine'];
  settings: FailoverSettings;
  cfg: ExecutorConfig;
  memory: GroupMemory;
  timer: NodeJS.Timeout;
  busy: boolean;
  /** What the last pass is waiting for or doing ("" when the group is as it should be). */
  activity: string;
  /** The primary was last seen committing without a replica's acknowledgement (semi-sync fell back). */
  async: boolean;
  /** Some server of the group answered the operator since it began tracking it. Until then (a new group
   *  bootstrapping, servers the operator cannot reach) nothing is reported as failing over. */
  seen: boolean;
}

const groupName = (g: Group) => (g.shard === undefined ? 'main' : `shard ${g.shard}`);

export class ReplicationMonitor {
  private readonly groups = new Map<string, Tracked>();
  private stopped = false;

  constructor(private readonly deps: MonitorDeps) {}

  /** Keeps one loop per replication group of the app; cheap when nothing changed (no request). */
  track(app: ScalableApp, credentials: Credentials): void {
    const key = `${app.metadata.namespace}/${app.metadata.name}`;
    if (app.spec.cache?.enabled && app.spec.cache.replicas > 0 && !app.spec.paused) {
      void this.labelCache(app).catch((err: unknown) =>
        this.deps.log.warn({ scalableapp: key, err: String(err) }, 'labelling the Redis pods failed'),
      );
    }
    const db = app.spec.database;
    const wanted = db?.enabled && !app.spec.paused ? groups(app, db) : [];
    const ids = new Set(wanted.map((g) => `${key}/${g.shardLabel}`));
    for (const [id, t] of this.groups) if (t.key === key && !ids.has(id)) this.drop(id);
    for (const group of wanted) {
      const id = `${key}/${group.shardLabel}`;
      const settings: FailoverSettings = {
        unreachableSeconds: db!.failover.unreachableSeconds,
        minSecondsBetweenFailovers: db!.failover.minSecondsBetweenFailovers,
        maxLagSeconds: 30,
      };
      const cfg: ExecutorConfig = {
        engine: db!.engine,
        operator: { user: OPERATOR_USER, password: credentials.operatorPassword },
        replication: { user: REPLICATION_USER, password: credentials.replicationPassword },
        timeouts: { connectMs: 1000, queryMs: 3000 },
        applyTimeoutSeconds: 30,
        semiSync: group.replicas > 0,
        lockWaitSeconds: 2,
      };
      const existing = this.groups.get(id);
      if (existing) {
        Object.assign(existing, { group, engine: db!.engine, settings, cfg });
        continue;
      }
      if (this.stopped) return;
      const t: Tracked = {
        key,
        group,
        engine: db!.engine,
        settings,
        cfg,
        memory: {},
        busy: false,
        activity: '',
        async: false,
        seen: false,
        timer: setInterval(() => void this.tick(t), this.deps.intervalMs ?? DEFAULT_INTERVAL_MS),
      };
      this.groups.set(id, t);
    }
  }

  /**
   * Redis replicas: the pods are labelled (the client Service selects the one labelled primary), the first pod
   * of the StatefulSet serving as primary. Promotion of a Redis replica is not driven from here yet.
   */
  private async labelCache(app: ScalableApp): Promise<void> {
    const ns = app.metadata.namespace!;
    const sts = cacheNames(app).statefulSet;
    const pods = (this.deps.caches.list(DATA_TIER_POD.kind, ns) as V1Pod[]).filter(
      (p) =>
        p.metadata?.labels?.[INSTANCE_LABEL] === app.metadata.name &&
        p.metadata?.labels?.[COMPONENT_LABEL] === 'cache' &&
        !p.metadata?.deletionTimestamp,
    );
    await this.label(ns, pods, `${sts}-0`);
  }

  untrack(key: string): void {
    for (const [id, t] of this.groups) if (t.key === key) this.drop(id);
  }

  /** What the app's groups are waiting for or doing, for DatabaseReady ("" for each group that is fine). */
  activity(key: string): string[] {
    return [...this.groups.values()]
      .filter((t) => t.key === key && t.activity)
      .map((t) => `${groupName(t.group)}: ${t.activity}`);
  }

  stop(): void {
    this.stopped = true;
    for (const id of [...this.groups.keys()]) this.drop(id);
  }

  private drop(id: string): void {
    clearInterval(this.groups.get(id)?.timer);
    this.groups.delete(id);
  }

  private async tick(t: Tracked): Promise<void> {
    if (t.busy || this.stopped) return;
    t.busy = true;
    try {
      await this.passOver(t);
    } catch (err) {
      this.deps.log.warn(
        { scalableapp: t.key, group: groupName(t.group), err: String(err) },
        'replication pass failed',
      );
    } finally {
      t.busy = false;
    }
  }

  private async passOver(t: Tracked): Promise<void> {
    const [namespace, name] = t.key.split('/') as [string, string];
    const { caches, client, log } = this.deps;
    const sts = caches.get('StatefulSet', namespace, t.group.names.primary.statefulSet);
    if (!sts) return; // not created yet
    const record = recordOf(sts);
    const pods = this.podsOf(t, namespace, name);
    if (pods.length === 0) return;
    const members = pods.map((p, i) => member(p, i, t.group, record.primary));
    const started = Date.now();
    const hooks: Hooks = {
      deletePod: (pod) => this.deletePod(namespace, pod),
      recordPrimary: async (pod, reason) => {
        const failover = { time: new Date().toISOString(), from: record.primary, to: pod, reason };
        await client.request(
          'PATCH',
          objectPath(resourceFor('apps/v1', 'StatefulSet'), namespace, t.group.names.primary.statefulSet),
          {
            query: { fieldManager: MONITOR_FIELD_MANAGER },
            contentType: MERGE_PATCH,
            body: recordPatch(failover),
          },
        );
        this.deps.metrics.promoteSeconds.observe({ tier: 'database' }, (Date.now() - started) / 1000);
      },
      // Only the old primary of the last failover is copied again by itself: a member whose data the primary
      // lacks could also mean the primary lost data, which only a person can tell.
      ...(record.lastFailover
        ? {
            rebuild: async (pod: string) => {
              if (pod !== record.lastFailover!.from) throw new Error(`${pod} needs a rebuild by hand`);
              await this.rebuild(namespace, pod);
            },
          }
        : {}),
    };
    const pass = this.deps.pass ?? groupPass;
    const result = await pass(members, record.primary, t.memory, t.settings, t.cfg, hooks).catch(
      (err: unknown) => ({ error: err as Error }),
    );
    if ('error' in result) {
      this.deps.metrics.failovers.inc({ tier: 'database', result: 'error' });
      await this.report(t, 'Warning', 'FailoverFailed', result.error.message);
      return;
    }
    const { decision, steps, primary } = result;
    // A demote request is answered once: by the switchover, or because the pod is not the primary (any more).
    for (const pod of pods.filter((p) => p.metadata?.annotations?.[DEMOTE_ANNOTATION] !== undefined)) {
      if (pod.metadata!.name === primary) continue;
      await client.request('PATCH', objectPath(DATA_TIER_POD, namespace, pod.metadata!.name!), {
        query: { fieldManager: MONITOR_FIELD_MANAGER },
        contentType: MERGE_PATCH,
        body: { metadata: { annotations: { [DEMOTE_ANNOTATION]: null } } },
      });
    }
    t.seen ||= result.observed.some((m) => m.reachable);
    const activity = t.seen && decision.action === 'wait' ? decision.reason : '';
    if (decision.action === 'failover' && primary === decision.to) {
      this.deps.metrics.failovers.inc({ tier: 'database', result: 'promoted' });
      await this.report(
        t,
        decision.switchover ? 'Normal' : 'Warning',
        decision.switchover ? 'Switchover' : 'Failover',
        `${groupName(t.group)}: promoted ${decision.to} in place of ${decision.from}: ${decision.reason} (${steps.map((s) => `${s.step} ${s.pod} ${s.ms} ms${s.error ? `: ${s.error}` : ''}`).join(', ')})`,
      );
    } else if (decision.action !== 'nothing' && decision.action !== 'wait') {
      log.info({ scalableapp: t.key, group: groupName(t.group), decision, steps }, 'replication step');
      const failed = steps.find((s) => s.error);
      if (failed)
        await this.report(
          t,
          'Warning',
          'ReplicationStepFailed',
          `${groupName(t.group)}: ${failed.step} ${failed.pod}: ${failed.error}`,
        );
    }
    const primaryState = result.observed.find((m) => m.pod === primary);
    const async = t.cfg.semiSync && primaryState?.readOnly === false && primaryState.semiSyncActive === false;
    if (async && !t.async) {
      this.deps.metrics.semiSyncFallbacks.inc();
      log.warn(
        { scalableapp: t.key, group: groupName(t.group) },
        'semi-sync fell back to async: no replica acknowledges',
      );
    }
    t.async = async;
    await this.label(namespace, pods, primary);
    if (activity !== t.activity) {
      t.activity = activity;
      this.deps.enqueue(t.key);
    }
  }

  private podsOf(t: Tracked, namespace: string, app: string): V1Pod[] {
    return (this.deps.caches.list(DATA_TIER_POD.kind, namespace) as V1Pod[])
      .filter((p) => {
        const l = p.metadata?.labels ?? {};
        return (
          l[INSTANCE_LABEL] === app &&
          l[COMPONENT_LABEL] === 'database' &&
          l[SHARD_LABEL] === t.group.shardLabel
        );
      })
      .filter((p) => !p.metadata?.deletionTimestamp)
      .sort((a, b) => podOrder(a, t.group) - podOrder(b, t.group));
  }

  /** Sets each pod's replication-role label to what it serves as (one patch per pod that differs). */
  private async label(namespace: string, pods: V1Pod[], primary: string): Promise<void> {
    for (const pod of pods) {
      const want: ReplicationRole = pod.metadata!.name === primary ? 'primary' : 'replica';
      if (pod.metadata?.labels?.[REPLICATION_ROLE_LABEL] === want) continue;
      await this.deps.client.request('PATCH', objectPath(DATA_TIER_POD, namespace, pod.metadata!.name!), {
        query: { fieldManager: MONITOR_FIELD_MANAGER },
        contentType: MERGE_PATCH,
        body: { metadata: { labels: { [REPLICATION_ROLE_LABEL]: want } } },
      });
    }
  }

  private async deletePod(namespace: string, pod: string): Promise<void> {
    try {
      await this.deps.client.request('DELETE', objectPath(DATA_TIER_POD, namespace, pod), {
        body: { gracePeriodSeconds: 0 },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Copies a member again: its claim goes, then its pod; the StatefulSet makes both anew and it bootstraps. */
  private async rebuild(namespace: string, pod: string): Promise<void> {
    try {
      await this.deps.client.request('DELETE', objectPath(VOLUME_CLAIM, namespace, `data-${pod}`));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    await this.deletePod(namespace, pod);
  }

  private async report(
    t: Tracked,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): Promise<void> {
    const [namespace, name] = t.key.split('/') as [string, string];
    const app = this.deps.caches.get(KIND, namespace, name) as KubernetesObject | undefined;
    this.deps.log.warn({ scalableapp: t.key, reason }, message);
    if (app) await this.deps.events.record(app, type, reason, message, this.deps.log);
    this.deps.enqueue(t.key);
  }
}

/** The primary StatefulSet's pods first, then the replicas', each by ordinal. */
function podOrder(p: V1Pod, group: Group): number {
  const name = p.metadata?.name ?? '';
  const ordinal = Number(name.slice(name.lastIndexOf('-') + 1)) || 0;
  return name.startsWith(`${group.names.primary.statefulSet}-`) ? ordinal : 1000 + ordinal;
}

function member(p: V1Pod, ordinal: number, group: Group, primary: string): MemberEndpoint {
  const name = p.metadata!.name!;
  const headless = name.startsWith(`${group.names.primary.statefulSet}-`)
    ? group.names.primary.headless
    : group.names.replica.headless;
  const ready = (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  return {
    pod: name,
    ordinal,
    host: p.status?.podIP ?? '',
    port: MYSQL_PORT,
    // A name that follows the pod across restarts (its IP does not).
    replicationHost: `${name}.${headless}`,
    // Replicas bootstrapped by the scripts follow the write Service, which selects the recorded primary.
    aliases: name === primary ? [group.names.primary.service] : [],
    role: p.metadata?.labels?.[REPLICATION_ROLE_LABEL] === 'primary' ? 'primary' : 'replica',
    ready,
    nodeReady: true,
    ...(p.metadata?.annotations?.[DEMOTE_ANNOTATION] === 'true' ? { demote: true } : {}),
  };
}
