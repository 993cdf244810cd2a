// The resharding monitor: the only actor that changes which shard owns a bucket. Every app with a database gets
// passes of the mover (src/resharding/pass.ts) until its shard map matches spec.database.shards.count: one when
// the operator first sees the app (it creates the map of an app that has none, from the count its apps routed
// by), then, after a count changes, as the pass asks: at once while batches remain, after its retryAfterMs while
// it drains or after a rolled-back batch, and every few seconds while a group has no ready primary. An app whose
// map matches its count costs nothing: no pass, no request, until the count changes.
//
// What it saw is reported through a reconcile (the Resharding condition and status.database.resharding), in
// events (ReshardingStarted, ReshardingCompleted, ReshardingFailed) and in metrics (buckets moved, the write
// pause of each batch).
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ScalableApp } from '../api/v1alpha1/index.js';
import { KIND } from '../api/v1alpha1/index.js';
import type { Credentials } from '../builders/types.js';
import { DATA_TIER_POD } from '../kube/resources.js';
import { DEFAULT_SHARD_MAP_MAX_AGE_MS } from '../resharding/contract.js';
import { type PassResult, reshardPass } from '../resharding/pass.js';
import type { Metrics } from '../runtime/metrics.js';
import type { Caches } from './caches.js';
import type { EventRecorder } from './events.js';
import { type PodAddress, podAddress, reshardingTopology, rollingDeployment } from './resharding-topology.js';

/** What the reconciler reports of an app's shard map (status and the Resharding condition). */
export interface ReshardingReport {
  /** idle: the map matches the count; moving / waiting: a resharding runs; failed: its last batch was rolled
   *  back, or a server could not be reached. */
  state: PassResult['state'];
  /** The shard count the map is moving to (or is at, when idle). */
  toCount: number;
  /** The map's version (0 before the first pass read it). */
  version: number;
  movedBuckets: number;
  totalBuckets: number;
  message: string;
  reason?: string;
  /** The longest write pause of a batch in this resharding (ms). */
  maxPauseMs?: number;
}

export interface ReshardingDeps {
  caches: Caches;
  log: Logger;
  events: EventRecorder;
  metrics: Metrics;
  /** Reconcile the app again (its status shows what the monitor saw). */
  enqueue(key: string): void;
  /** How the operator reaches a database pod (default: its IP). */
  address?: PodAddress;
  /** One pass of the mover (default reshardPass). */
  pass?: typeof reshardPass;
  /** While a group has no ready primary, look again this often (default 3 s). */
  waitMs?: number;
}

interface Tracked {
  key: string;
  app: ScalableApp;
  credentials: Credentials;
  /** The count the apps routed by before this operator (the map of an app without one is created from it). */
  seedCount: number;
  /** The count the last idle pass found the map at; undefined until a pass reached idle. */
  settledAt?: number;
  timer?: NodeJS.Timeout;
  busy: boolean;
  report?: ReshardingReport;
}

const DEFAULT_WAIT_MS = 3000;
/** A pass that threw (a bug, not a server) is tried again after this long. */
const ERROR_RETRY_MS = 10_000;

export class ReshardingMonitor {
  private readonly apps = new Map<string, Tracked>();
  private stopped = false;

  constructor(private readonly deps: ReshardingDeps) {}

  /**
   * Called on every reconcile of an app with a database: schedules a pass when the map may differ from the
   * spec (never seen, or the count changed since the last idle pass); nothing otherwise.
   */
  track(app: ScalableApp, credentials: Credentials, seedCount: number): void {
    if (this.stopped || !app.spec.database?.enabled || app.spec.paused) return;
    const key = `${app.metadata.namespace}/${app.metadata.name}`;
    const t = this.apps.get(key) ?? { key, app, credentials, seedCount, busy: false };
    t.app = app;
    t.credentials = credentials;
    this.apps.set(key, t);
    if (t.settledAt === app.spec.database.shards.count || t.timer || t.busy) return;
    this.schedule(t, 0);
  }

  untrack(key: string): void {
    const t = this.apps.get(key);
    if (t) clearTimeout(t.timer);
    this.apps.delete(key);
  }

  /** The app's shard map as the last pass saw it (undefined before any pass). */
  report(key: string): ReshardingReport | undefined {
    return this.apps.get(key)?.report;
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.apps.values()) clearTimeout(t.timer);
    this.apps.clear();
  }

  private schedule(t: Tracked, ms: number): void {
    clearTimeout(t.timer);
    t.timer = setTimeout(() => {
      t.timer = undefined;
      void this.tick(t);
    }, ms);
  }

  private async tick(t: Tracked): Promise<void> {
    if (t.busy || this.stopped || this.apps.get(t.key) !== t) return;
    t.busy = true;
    let next: number | undefined;
    try {
      next = await this.passOver(t);
    } catch (err) {
      // A thrown error is a fault of the pass (servers' errors come back as a 'failed' result): keep its stack.
      this.deps.log.warn(
        { scalableapp: t.key, err: (err as Error).stack ?? String(err) },
        'resharding pass failed',
      );
      next = ERROR_RETRY_MS;
    } finally {
      t.busy = false;
    }
    if (next !== undefined && !this.stopped && this.apps.get(t.key) === t) this.schedule(t, next);
  }

  /** One pass; returns when to run the next (undefined: not until the count changes). */
  private async passOver(t: Tracked): Promise<number | undefined> {
    const { app } = t;
    const db = app.spec.database!;
    const count = db.shards.count;
    // Buckets move to a new shard only once every app pod has a binding that lists it (the count's change rolls
    // them); a resharding already under way goes on (pods started since have the current binding).
    const underWay = t.report !== undefined && t.report.state !== 'idle' && t.report.totalBuckets > 0;
    const rolling = underWay
      ? undefined
      : rollingDeployment(app, this.deps.caches.list('Deployment', app.metadata.namespace!));
    if (rolling) {
      await this.update(t, {
        ...this.waitingReport(t, count),
        message: `waiting for Deployment ${rolling} to roll out: its pods must have the binding of ${count} shards before buckets move`,
      });
      return this.deps.waitMs ?? DEFAULT_WAIT_MS;
    }
    const pods = this.deps.caches.list(DATA_TIER_POD.kind, app.metadata.namespace!) as V1Pod[];
    const found = reshardingTopology(app, t.credentials, pods, this.deps.address ?? podAddress);
    if ('waitingFor' in found) {
      await this.update(t, { ...this.waitingReport(t, count), message: `waiting for ${found.waitingFor}` });
      return this.deps.waitMs ?? DEFAULT_WAIT_MS;
    }
    const pass = this.deps.pass ?? reshardPass;
    let maxPauseMs = t.report?.state === 'idle' ? undefined : t.report?.maxPauseMs;
    const result = await pass(
      found.topology,
      {
        count,
        batchBuckets: db.shards.moveBatchBuckets,
        mapMaxAgeMs: DEFAULT_SHARD_MAP_MAX_AGE_MS,
        seedCount: t.seedCount,
      },
      {
        // Progress shows in status batch by batch, not only when the pass ends (a pass runs up to its budget).
        onStep: (progress) => {
          const r = t.report;
          if (r && r.state === 'moving' && r.movedBuckets === progress.movedBuckets) return;
          void this.update(t, {
            state: 'moving',
            toCount: count,
            version: r?.version ?? 0,
            movedBuckets: progress.movedBuckets,
            totalBuckets: progress.totalBuckets,
            message: `moving to ${progress.toCount} shards from ${progress.fromCount}, batch ${progress.batch + 1}`,
            ...(maxPauseMs !== undefined ? { maxPauseMs } : {}),
          });
        },
        onBatch: (batch) => {
          maxPauseMs = Math.max(maxPauseMs ?? 0, batch.pauseMs);
          this.deps.metrics.bucketsMoved.inc(batch.buckets.length);
          this.deps.metrics.batchPauseSeconds.observe(batch.pauseMs / 1000);
          this.deps.log.info(
            {
              scalableapp: t.key,
              from: batch.from,
              to: batch.to,
              buckets: batch.buckets.length,
              rows: batch.rows,
              pauseMs: batch.pauseMs,
              version: batch.version,
            },
            'moved a batch of buckets',
          );
        },
      },
    );
    await this.update(t, {
      state: result.state,
      toCount: count,
      version: result.version,
      movedBuckets: result.movedBuckets,
      totalBuckets: result.totalBuckets,
      message: result.message,
      ...(result.reason ? { reason: result.reason } : {}),
      ...(maxPauseMs !== undefined ? { maxPauseMs } : {}),
    });
    switch (result.state) {
      case 'idle':
        t.settledAt = count;
        return undefined;
      case 'moving':
        t.settledAt = undefined;
        return 0;
      default:
        t.settledAt = undefined;
        return result.reason === 'Error'
          ? Math.min(result.retryAfterMs ?? ERROR_RETRY_MS, ERROR_RETRY_MS)
          : (result.retryAfterMs ?? ERROR_RETRY_MS);
    }
  }

  /** What is known of the map while the monitor waits before a pass. */
  private waitingReport(t: Tracked, count: number): ReshardingReport {
    // An idle report's numbers are the last resharding's, not this one's.
    const running = t.report && t.report.state !== 'idle' ? t.report : undefined;
    return {
      state: 'waiting',
      toCount: count,
      version: t.report?.version ?? 0,
      movedBuckets: running?.movedBuckets ?? 0,
      totalBuckets: running?.totalBuckets ?? 0,
      message: '',
      ...(t.report?.maxPauseMs !== undefined ? { maxPauseMs: t.report.maxPauseMs } : {}),
    };
  }

  /** Keeps the report; events on the transitions worth one; a reconcile when what status shows changed. */
  private async update(t: Tracked, report: ReshardingReport): Promise<void> {
    const before = t.report;
    t.report = report;
    const started = report.state === 'moving' || report.state === 'waiting';
    const wasRunning = before && before.state !== 'idle' && before.totalBuckets > 0;
    if (started && report.totalBuckets > 0 && !wasRunning) {
      await this.event(
        t,
        'Normal',
        'ReshardingStarted',
        `moving ${report.totalBuckets} buckets to reach ${report.toCount} shards: ${report.message}`,
      );
    }
    if (report.state === 'idle' && wasRunning) {
      const longest = report.maxPauseMs ?? before.maxPauseMs;
      const pause = longest !== undefined ? `; longest write pause ${Math.round(longest)} ms` : '';
      await this.event(
        t,
        'Normal',
        'ReshardingCompleted',
        `${report.toCount} shards: ${report.message}${pause}`,
      );
    }
    if (report.state === 'failed' && (before?.state !== 'failed' || before.message !== report.message)) {
      await this.event(t, 'Warning', 'ReshardingFailed', report.message);
    }
    if (JSON.stringify(before) !== JSON.stringify(report)) this.deps.enqueue(t.key);
  }

  private async event(t: Tracked, type: 'Normal' | 'Warning', reason: string, message: string) {
    const [namespace, name] = t.key.split('/') as [string, string];
    const app = this.deps.caches.get(KIND, namespace, name) as KubernetesObject | undefined;
    this.deps.log.info({ scalableapp: t.key, reason }, message);
    if (app) await this.deps.events.record(app, type, reason, message, this.deps.log);
  }
}
