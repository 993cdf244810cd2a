// Leader election with a coordination.k8s.io/v1 Lease, in the manner of client-go: acquire when the lease is
// free or its holder let it lapse (judged by our own clock from when we last saw it change, so clock skew
// between processes does not matter), renew every retry period, step down when renewal fails for the renew
// deadline, and release on shutdown so a successor takes over at once.
import type { Logger } from 'pino';
import type { KubeClient } from '../kube/client.js';
import { isConflict, isNotFound } from '../kube/errors.js';
import { LEASE, collectionPath, objectPath } from '../kube/resources.js';
import type { Metrics } from './metrics.js';

export interface LeaderElectionOptions {
  client: KubeClient;
  log: Logger;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  metrics?: Metrics;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

interface Lease {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number;
  };
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
const microTime = (d: Date) => d.toISOString().replace(/Z$/, '000Z');

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private observed?: { record: string; at: number };
  private lastRenew = 0;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly opts: LeaderElectionOptions) {
    if (!(opts.leaseDurationMs > opts.renewDeadlineMs && opts.renewDeadlineMs > opts.retryPeriodMs)) {
      throw new Error('leader election: need leaseDuration > renewDeadline > retryPeriod');
    }
    opts.metrics?.leader.set({ name: opts.name }, 0);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.stopped = false;
    this.inFlight = this.loop();
  }

  /** Stops campaigning; releases the lease when held. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inFlight; // a renewal in flight would otherwise race the release (409)
    if (this.leading) {
      await this.release().catch((err: unknown) =>
        this.opts.log.warn({ err: String(err) }, 'lease release failed'),
      );
      this.setLeading(false);
    }
  }

  private async loop(): Promise<void> {
    if (this.stopped) return;
    try {
      const ok = await this.tryAcquireOrRenew();
      if (ok) {
        this.lastRenew = Date.now();
        if (!this.leading) this.setLeading(true);
      } else if (this.leading) {
        this.opts.log.warn('lost the lease to another holder');
        this.setLeading(false);
      }
    } catch (err) {
      this.opts.log.warn({ err: String(err) }, 'lease renewal failed');
      if (this.leading && Date.now() - this.lastRenew > this.opts.renewDeadlineMs) {
        this.opts.log.error('could not renew the lease within the renew deadline; stepping down');
        this.setLeading(false);
      }
    }
    if (!this.stopped) {
      this.timer = setTimeout(() => {
        this.inFlight = this.loop();
      }, this.opts.retryPeriodMs);
    }
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    this.opts.metrics?.leader.set({ name: this.opts.name }, leading ? 1 : 0);
    this.opts.log.info(
      { identity: this.opts.identity, leading },
      leading ? 'became leader' : 'stopped leading',
    );
    if (leading) this.opts.onStartedLeading();
    else this.opts.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, name, identity } = this.opts;
    const now = new Date();
    const durationSeconds = Math.ceil(this.opts.leaseDurationMs / 1000);
    let lease: Lease;
    try {
      lease = await client.request<Lease>('GET', objectPath(LEASE, namespace, name));
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const created: Lease = {
        apiVersion: LEASE.apiVersion,
        kind: LEASE.kind,
        metadata: { name, namespace },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: 0,
        },
      };
      try {
        await client.request('POST', collectionPath(LEASE, namespace), { body: created });
        return true;
      } catch (e) {
        if (isConflict(e) || (e as { status?: number }).status === 409) return false;
        throw e;
      }
    }

    const record = JSON.stringify(lease.spec);
    if (this.observed?.record !== record) this.observed = { record, at: Date.now() };
    const holder = lease.spec.holderIdentity ?? '';
    const heldByOther = holder !== '' && holder !== identity;
    const lapsed =
      Date.now() - this.observed.at > (lease.spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (heldByOther && !lapsed) return false;

    const next: Lease = {
      ...lease,
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: holder === identity ? lease.spec.acquireTime : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: (lease.spec.leaseTransitions ?? 0) + (holder === identity ? 0 : 1),
      },
    };
    try {
      const updated = await client.request<Lease>('PUT', objectPath(LEASE, namespace, name), { body: next });
      this.observed = { record: JSON.stringify(updated.spec), at: Date.now() };
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  private async release(): Promise<void> {
    const { client, namespace, name, identity } = this.opts;
    const lease = await client.request<Lease>('GET', objectPath(LEASE, namespace, name));
    if (lease.spec.holderIdentity !== identity) return;
    await client.request('PUT', objectPath(LEASE, namespace, name), {
      body: {
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: null,
          leaseDurationSeconds: 1,
          acquireTime: null,
          renewTime: null,
        },
      },
    });
  }
}
