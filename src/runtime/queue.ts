// A work queue in the manner of client-go's: keys are deduplicated while they wait, a key is processed by at
// most one worker at a time (a key added while it is processed is queued again once, after), `concurrency`
// workers run in parallel, failures retry with per-key exponential backoff, terminal failures do not retry.
// Two priorities: a key added because something changed (an event, a retry, a requeue) goes ahead of every key
// added only by a periodic resync, so one user's edit is not stuck behind a resync of every app; a key waiting
// for a resync that an event touches is promoted.
import { ExponentialBackoff } from './backoff.js';
import type { Metrics } from './metrics.js';

export type Result = { requeueAfterMs?: number } | void;

/** `event`: something changed (the default); `resync`: a periodic revisit, handled after every `event` key. */
export type Priority = 'event' | 'resync';

/** Thrown (or returned as a cause) by a handler for errors that retrying cannot fix, e.g. an invalid spec. */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
}

export interface QueueOptions {
  name: string;
  concurrency: number;
  handler: (key: string) => Promise<Result>;
  onError?: (key: string, err: unknown, retryInMs: number | undefined) => void;
  backoff?: ExponentialBackoff;
  metrics?: Metrics;
}

export class WorkQueue {
  // key -> time added (queue order = insertion order), one map per priority; a key is in at most one.
  private readonly waiting = { event: new Map<string, number>(), resync: new Map<string, number>() };
  private readonly processing = new Set<string>();
  private readonly dirty = new Map<string, Priority>(); // added while processing, with the highest priority asked
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; due: number }>(); // key -> pending delay
  private readonly idleWaiters: (() => void)[] = [];
  private readonly backoff: ExponentialBackoff;
  private active = 0;
  private shuttingDown = false;

  constructor(private readonly opts: QueueOptions) {
    if (opts.concurrency < 1) throw new Error('queue concurrency must be >= 1');
    this.backoff = opts.backoff ?? new ExponentialBackoff();
  }

  /**
   * Enqueues a key now. Adding a key that already waits is a no-op, except that an `event` add promotes a key
   * waiting for a resync.
   */
  add(key: string, priority: Priority = 'event'): void {
    if (this.shuttingDown) return;
    this.opts.metrics?.queueAdds.inc({ name: this.opts.name });
    if (this.processing.has(key)) {
      if (this.dirty.get(key) !== 'event') this.dirty.set(key, priority);
      return;
    }
    const { event, resync } = this.waiting;
    if (event.has(key)) return;
    const queuedForResync = resync.get(key);
    if (priority === 'event') {
      resync.delete(key);
      event.set(key, queuedForResync ?? performance.now());
    } else if (queuedForResync === undefined) {
      resync.set(key, performance.now());
    }
    this.updateDepth();
    this.pump();
  }

  /**
   * Enqueues a key after a delay. A key has at most one pending delay and the earliest deadline wins (as in
   * client-go's delaying queue): a short retry asked for after a long requeue replaces it, a longer one is ignored.
   */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const due = performance.now() + ms;
    const pending = this.timers.get(key);
    if (pending) {
      if (pending.due <= due) return;
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.timers.set(key, { timer, due });
  }

  get depth(): number {
    return this.waiting.event.size + this.waiting.resync.size;
  }

  get inFlight(): number {
    return this.active;
  }

  /** Resolves once nothing waits and nothing is processed (delayed keys are not counted). */
  idle(): Promise<void> {
    if (this.active === 0 && this.depth === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking work, drops waiting keys and resolves when in-flight handlers are done. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.waiting.event.clear();
    this.waiting.resync.clear();
    this.dirty.clear();
    this.updateDepth();
    await this.idle();
  }

  private pump(): void {
    while (!this.shuttingDown && this.active < this.opts.concurrency && this.depth > 0) {
      const from = this.waiting.event.size > 0 ? this.waiting.event : this.waiting.resync;
      const [key, addedAt] = from.entries().next().value as [string, number];
      from.delete(key);
      this.updateDepth();
      this.opts.metrics?.queueLatency.observe({ name: this.opts.name }, (performance.now() - addedAt) / 1000);
      void this.process(key);
    }
    if (this.active === 0 && this.depth === 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private async process(key: string): Promise<void> {
    this.active++;
    this.processing.add(key);
    const started = performance.now();
    try {
      const result = await this.opts.handler(key);
      this.backoff.forget(key);
      if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
    } catch (err) {
      if (err instanceof TerminalError) {
        this.backoff.forget(key);
        this.opts.onError?.(key, err, undefined);
      } else {
        const wait = this.backoff.next(key);
        this.opts.metrics?.queueRetries.inc({ name: this.opts.name });
        this.opts.onError?.(key, err, wait);
        this.addAfter(key, wait);
      }
    } finally {
      this.opts.metrics?.workDuration.observe({ name: this.opts.name }, (performance.now() - started) / 1000);
      this.processing.delete(key);
      this.active--;
      const again = this.dirty.get(key);
      if (again) {
        this.dirty.delete(key);
        this.add(key, again);
      }
      this.pump();
    }
  }

  private updateDepth(): void {
    this.opts.metrics?.queueDepth.set({ name: this.opts.name }, this.depth);
  }
}
