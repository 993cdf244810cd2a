import { describe, expect, it } from '@jest/globals';
import { ExponentialBackoff } from './backoff.js';
import { Metrics } from './metrics.js';
import { TerminalError, WorkQueue } from './queue.js';

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('WorkQueue', () => {
  it('deduplicates a key added many times while it waits', async () => {
    const seen: string[] = [];
    const gate = deferred();
    const q = new WorkQueue({
      name: 't',
      concurrency: 1,
      handler: async (k) => {
        seen.push(k);
        if (k === 'block') await gate.promise;
      },
    });
    q.add('block');
    for (let i = 0; i < 10; i++) q.add('a');
    expect(q.depth).toBe(1);
    gate.resolve();
    await q.idle();
    expect(seen).toEqual(['block', 'a']);
  });

  it('never runs one key twice at once, and reprocesses a key added during its run exactly once', async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const gate = deferred();
    const q = new WorkQueue({
      name: 't',
      concurrency: 4,
      handler: async () => {
        running++;
        runs++;
        maxRunning = Math.max(maxRunning, running);
        if (runs === 1) await gate.promise;
        running--;
      },
    });
    q.add('k');
    await tick();
    q.add('k');
    q.add('k');
    gate.resolve();
    await q.idle();
    expect(maxRunning).toBe(1);
    expect(runs).toBe(2);
  });

  it('runs different keys concurrently up to the concurrency limit', async () => {
    let running = 0;
    let maxRunning = 0;
    const q = new WorkQueue({
      name: 't',
      concurrency: 3,
      handler: async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await tick(10);
        running--;
      },
    });
    for (let i = 0; i < 10; i++) q.add(`k${i}`);
    await q.idle();
    expect(maxRunning).toBe(3);
  });

  it('retries transient errors with growing backoff and forgets the count on success', async () => {
    const backoff = new ExponentialBackoff(5, 1000);
    const times: number[] = [];
    const q = new WorkQueue({
      name: 't',
      concurrency: 1,
      backoff,
      handler: async () => {
        times.push(performance.now());
        if (times.length < 4) throw new Error('transient');
      },
    });
    q.add('k');
    while (times.length < 4) await tick(5);
    await q.idle();
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(4);
    expect(gaps[1]).toBeGreaterThanOrEqual(9);
    expect(gaps[2]).toBeGreaterThanOrEqual(19);
    expect(backoff.retries('k')).toBe(0);
  });

  it('does not retry terminal errors', async () => {
    let runs = 0;
    const errors: (number | undefined)[] = [];
    const q = new WorkQueue({
      name: 't',
      concurrency: 1,
      backoff: new ExponentialBackoff(1, 10),
      handler: async () => {
        runs++;
        throw new TerminalError('invalid spec');
      },
      onError: (_k, _e, retry) => errors.push(retry),
    });
    q.add('k');
    await q.idle();
    await tick(30);
    expect(runs).toBe(1);
    expect(errors).toEqual([undefined]);
  });

  it('honours requeueAfter', async () => {
    let runs = 0;
    const q = new WorkQueue({
      name: 't',
      concurrency: 1,
      handler: async () => (++runs === 1 ? { requeueAfterMs: 20 } : undefined),
    });
    q.add('k');
    await q.idle();
    expect(runs).toBe(1);
    await tick(60);
    expect(runs).toBe(2);
  });

  it('runs a key at the earliest of its pending delays: a later, shorter delay wins over an earlier, longer one', async () => {
    const ran: number[] = [];
    const q = new WorkQueue({
      name: 't',
      concurrency: 1,
      handler: async () => void ran.push(performance.now()),
    });
    const start = performance.now();
    q.addAfter('k', 600_000); // e.g. a resync far away
    q.addAfter('k', 10); // then a retry's backoff
    while (ran.length === 0 && performance.now() - start < 1000) await tick(5);
    expect(ran).toHaveLength(1);
    expect(ran[0]! - start).toBeLessThan(500);
    await q.shutdown();
  });

  it('keeps the earlier deadline when a longer delay is asked for later, and runs the key once', async () => {
    let runs = 0;
    const q = new WorkQueue({ name: 't', concurrency: 1, handler: async () => void runs++ });
    q.addAfter('k', 20);
    q.addAfter('k', 600_000);
    await tick(80);
    expect(runs).toBe(1);
    q.addAfter('k', 20); // nothing left pending from the longer delay: a new one arms again
    await tick(80);
    expect(runs).toBe(2);
    await q.shutdown();
  });

  it('a requeueAfter after a failure retry does not postpone the retry', async () => {
    // A handler that first asks for a long requeue, then (on a later event) fails: the retry must come at
    // its backoff, not at the requeue's far deadline.
    let runs = 0;
    const q = new WorkQueue({
      name: 't',
      concurrency: 1,
      backoff: new ExponentialBackoff(5, 5),
      handler: async () => {
        runs++;
        if (runs === 1) return { requeueAfterMs: 600_000 };
        if (runs === 2) throw new Error('transient');
      },
    });
    q.add('k');
    await q.idle();
    q.add('k'); // an event
    const start = performance.now();
    while (runs < 3 && performance.now() - start < 1000) await tick(5);
    expect(runs).toBe(3);
    await q.shutdown();
  });

  it('shutdown waits for in-flight work and drops the rest', async () => {
    const gate = deferred();
    const done: string[] = [];
    const q = new WorkQueue({
      name: 't',
      concurrency: 1,
      handler: async (k) => {
        await gate.promise;
        done.push(k);
      },
    });
    q.add('a');
    q.add('b');
    const stopped = q.shutdown();
    q.add('c');
    gate.resolve();
    await stopped;
    expect(done).toEqual(['a']);
  });

  it('reports depth, adds and retries as controller-runtime metrics', async () => {
    const metrics = new Metrics();
    let fail = true;
    const q = new WorkQueue({
      name: 'scalableapp',
      concurrency: 1,
      metrics,
      backoff: new ExponentialBackoff(1, 5),
      handler: async () => {
        if (fail) {
          fail = false;
          throw new Error('x');
        }
      },
    });
    q.add('k');
    await tick(30);
    await q.idle();
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/workqueue_adds_total\{name="scalableapp"\} 2/);
    expect(text).toMatch(/workqueue_retries_total\{name="scalableapp"\} 1/);
    expect(text).toMatch(/workqueue_depth\{name="scalableapp"\} 0/);
  });
});

describe('WorkQueue priorities: events ahead of resyncs', () => {
  /** A queue of concurrency 1 whose first key ('block') holds the worker until `gate` resolves. */
  function blockedQueue() {
    const seen: string[] = [];
    const gate = deferred();
    const q = new WorkQueue({
      name: 't',
      concurrency: 1,
      handler: async (k) => {
        seen.push(k);
        if (k === 'block') await gate.promise;
      },
    });
    q.add('block');
    return { q, seen, gate };
  }

  it('handles a key added by an event next, though 1,000 keys added by a resync wait before it', async () => {
    const { q, seen, gate } = blockedQueue();
    for (let i = 0; i < 1000; i++) q.add(`app-${i}`, 'resync');
    q.add('edited');
    expect(q.depth).toBe(1001);
    gate.resolve();
    await q.idle();
    expect(seen.slice(0, 3)).toEqual(['block', 'edited', 'app-0']);
    expect(seen).toHaveLength(1002);
  });

  it('promotes a key waiting for a resync when an event touches it, and handles it once', async () => {
    const { q, seen, gate } = blockedQueue();
    for (let i = 0; i < 5; i++) q.add(`app-${i}`, 'resync');
    q.add('app-3');
    q.add('app-3', 'resync');
    expect(q.depth).toBe(5);
    gate.resolve();
    await q.idle();
    expect(seen).toEqual(['block', 'app-3', 'app-0', 'app-1', 'app-2', 'app-4']);
  });

  it('does not demote a key waiting for an event when a resync adds it again', async () => {
    const { q, seen, gate } = blockedQueue();
    q.add('app-0', 'resync');
    q.add('edited');
    q.add('edited', 'resync');
    gate.resolve();
    await q.idle();
    expect(seen).toEqual(['block', 'edited', 'app-0']);
  });

  it('keeps the event priority of a key touched while it is handled', async () => {
    const { q, seen, gate } = blockedQueue();
    q.add('app-0', 'resync');
    q.add('block'); // an edit while it is handled ...
    q.add('block', 'resync'); // ... then a resync: it still goes first, after this run
    gate.resolve();
    await q.idle();
    expect(seen).toEqual(['block', 'block', 'app-0']);
  });
});
