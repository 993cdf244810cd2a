// A work queue in the manner of client-go's: keys are deduplicated while they wait, a key is processed by at
// most one worker at a time (a key added while it is processed is queued again once, after), `concurrency`
// workers run in parallel, failures retry with per-key exponential backoff, terminal failures do not retry.
import { ExponentialBackoff } from './backoff.js';
import type { Metrics } from './metrics.js';

export type Result = { requeueAfterMs?: number } | void;

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
  private readonly waiting = new Map<string, number>(); // key -> time added (queue order = insertion order)
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>(); // added while processing
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; due: number }>(); // key -> pending delay
  private readonly idleWaiters: (() => void)[] = [];
  private readonly backoff: ExponentialBackoff;
  private active = 0;
  private shuttingDown = false;

  constructor(private readonly opts: QueueOptions) {
    if (opts.concurrency < 1) throw new Error('queue concurrency must be >= 1');
    this.backoff = opts.backoff ?? new ExponentialBackoff();
  }

  /** Enqueues a key now. Adding a key that already waits is a no-op. */
  add(key: string): void {
    if (this.shuttingDown) return;
    this.opts.metrics?.queueAdds.inc({ name: this.opts.name });
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (!this.waiting.has(key)) this.waiting.set(key, performance.now());
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
    return this.waiting.size;
  }

  get inFlight(): number {
    return this.active;
  }

  /** Resolves once nothing waits and nothing is processed (delayed keys are not counted). */
  idle(): Promise<void> {
    if (this.active === 0 && this.waiting.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking work, drops waiting keys and resolves when in-flight handlers are done. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.waiting.clear();
    this.dirty.clear();
    this.updateDepth();
    await this.idle();
  }

  private pump(): void {
    while (!this.shuttingDown && this.active < this.opts.concurrency && this.waiting.size > 0) {
      const [key, addedAt] = this.waiting.entries().next().value as [string, number];
      this.waiting.delete(key);
      this.updateDepth();
      this.opts.metrics?.queueLatency.observe({ name: this.opts.name }, (performance.now() - addedAt) / 1000);
      void this.process(key);
    }
    if (this.active === 0 && this.waiting.size === 0) {
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
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
    }
  }

  private updateDepth(): void {
    this.opts.metrics?.queueDepth.set({ name: this.opts.name }, this.waiting.size);
  }
}
