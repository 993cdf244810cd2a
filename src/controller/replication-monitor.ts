// The replication monitor: the only actor that changes who is primary. Every replication group of every app the
// reconciler tracks (the main database group, each shard, and Redis when it has replicas: replication-groups.ts)
// gets a pass every intervalMs: its members from the pod cache, the recorded primary from its StatefulSet
// (replication-record.ts), then the group's pass observes the servers (SQL or RESP), decides and acts. After each pass the pods' replication-role labels follow the primary (the write and
// read Services select by them). A failover is recorded before any replica follows the new primary, and is
// reported as a Warning event, in metrics and (through a reconcile) in status.
//
// Requests: a pass reads only caches and the servers; it writes only when something changes (a label that
// differs, a record, a fenced pod's deletion).
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ScalableApp } from '../api/v1alpha1/index.js';
import { KIND } from '../api/v1alpha1/index.js';
import { REPLICATION_ROLE_LABEL, type ReplicationRole } from '../builders/meta.js';
import type { Credentials } from '../builders/types.js';
import type { KubeClient } from '../kube/client.js';
import { isNotFound } from '../kube/errors.js';
import { DATA_TIER_POD, objectPath, resourceFor, VOLUME_CLAIM } from '../kube/resources.js';
import type { Hooks } from '../replication/executor.js';
import type { GroupMemory, groupPass } from '../replication/group-pass.js';
import type { Metrics } from '../runtime/metrics.js';
import type { Caches } from './caches.js';
import type { EventRecorder } from './events.js';
import { type ReplicationGroup, replicationGroups } from './replication-groups.js';
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
  /** One pass over a database group; the SQL groupPass unless a test simulates the servers. */
  pass?: typeof groupPass;
}

interface Tracked {
  key: string;
  group: ReplicationGroup;
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

export class ReplicationMonitor {
  private readonly groups = new Map<string, Tracked>();
  private stopped = false;

  constructor(private readonly deps: MonitorDeps) {}

  /** Keeps one loop per replication group of the app; cheap when nothing changed (no request). */
  track(app: ScalableApp, credentials: Credentials): void {
    const key = `${app.metadata.namespace}/${app.metadata.name}`;
    const wanted = replicationGroups(app, credentials, this.deps.pass);
    const ids = new Set(wanted.map((g) => `${key}/${g.id}`));
    for (const [id, t] of this.groups) if (t.key === key && !ids.has(id)) this.drop(id);
    for (const group of wanted) {
      const id = `${key}/${group.id}`;
      const existing = this.groups.get(id);
      if (existing) {
        existing.group = group;
        continue;
      }
      if (this.stopped) return;
      const t: Tracked = {
        key,
        group,
        memory: {},
        busy: false,
        activity: '',
        async: false,
        seen: false,
        timer: setInterval(() => void this.tick(t), this.deps.intervalMs ?? DEFAULT_INTERVAL_MS),
      };
      this.groups.set(id, t);
      // At once: pods of an app upgraded from a version without role labels are labelled without waiting.
      void this.tick(t);
    }
  }

  untrack(key: string): void {
    for (const [id, t] of this.groups) if (t.key === key) this.drop(id);
  }

  /** What the app's groups of a tier are waiting for or doing (for DatabaseReady / CacheReady). */
  activity(key: string, tier: ReplicationGroup['tier']): string[] {
    return [...this.groups.values()]
      .filter((t) => t.key === key && t.group.tier === tier && t.activity)
      .map((t) => `${t.group.name}: ${t.activity}`);
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
        { scalableapp: t.key, group: t.group.name, err: String(err) },
        'replication pass failed',
      );
    } finally {
      t.busy = false;
    }
  }

  private async passOver(t: Tracked): Promise<void> {
    const [namespace, name] = t.key.split('/') as [string, string];
    const { caches, client, log } = this.deps;
    const { group } = t;
    const sts = caches.get('StatefulSet', namespace, group.recordHolder);
    if (!sts) return; // not created yet
    const record = recordOf(sts);
    const pods = (caches.list(DATA_TIER_POD.kind, namespace) as V1Pod[])
      .filter((p) => group.includes(p, name) && !p.metadata?.deletionTimestamp)
      .sort((a, b) => group.order(a) - group.order(b));
    if (pods.length === 0) return;
    const members = pods.map((p, i) => group.member(p, i, record.primary));
    const started = Date.now();
    const hooks: Hooks = {
      deletePod: (pod) => this.deletePod(namespace, pod),
      recordPrimary: async (pod, reason) => {
        const failover = { time: new Date().toISOString(), from: record.primary, to: pod, reason };
        await client.request(
          'PATCH',
          objectPath(resourceFor('apps/v1', 'StatefulSet'), namespace, group.recordHolder),
          {
            query: { fieldManager: MONITOR_FIELD_MANAGER },
            contentType: MERGE_PATCH,
            body: recordPatch(failover),
          },
        );
        this.deps.metrics.promoteSeconds.observe({ tier: group.tier }, (Date.now() - started) / 1000);
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
    const result = await group
      .run(members, record.primary, t.memory, hooks)
      .catch((err: unknown) => ({ error: err as Error }));
    if ('error' in result) {
      this.deps.metrics.failovers.inc({ tier: group.tier, result: 'error' });
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
    const switchover = decision.action === 'failover' && 'switchover' in decision && decision.switchover;
    if (decision.action === 'failover' && primary === decision.to) {
      this.deps.metrics.failovers.inc({ tier: group.tier, result: 'promoted' });
      await this.report(
        t,
        switchover ? 'Normal' : 'Warning',
        switchover ? 'Switchover' : 'Failover',
        `${t.group.name}: promoted ${decision.to} in place of ${decision.from}: ${decision.reason} (${steps.map((s) => `${s.step} ${s.pod} ${s.ms} ms${s.error ? `: ${s.error}` : ''}`).join(', ')})`,
      );
    } else if (decision.action !== 'nothing' && decision.action !== 'wait') {
      log.info({ scalableapp: t.key, group: t.group.name, decision, steps }, 'replication step');
      const failed = steps.find((s) => s.error);
      if (failed)
        await this.report(
          t,
          'Warning',
          'ReplicationStepFailed',
          `${t.group.name}: ${failed.step} ${failed.pod}: ${failed.error}`,
        );
    }
    const primaryState = result.observed.find((m) => m.pod === primary);
    const async = group.semiSync && primaryState?.readOnly === false && primaryState.semiSyncActive === false;
    if (async && !t.async) {
      this.deps.metrics.semiSyncFallbacks.inc();
      log.warn(
        { scalableapp: t.key, group: t.group.name },
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
