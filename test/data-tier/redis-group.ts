// A Redis group for the failover tests: cache pods named as the StatefulSet names them, the members as the
// executor sees them, a decision loop (observe → decide) as the operator's monitor runs it, and a client that
// writes session keys without pause through "the client Service" and records every write Redis acknowledged.
import { createClient } from 'redis';
import type { FailoverSettings } from '../../src/replication/decide.js';
import {
  decideRedisFailover,
  observeRedisGroup,
  parseInfo,
  type RedisConfig,
  type RedisDecision,
  type RedisGroupState,
  type RedisMemberEndpoint,
} from '../../src/replication/redis.js';
import { sleep, waitFor } from '../services/ports.js';
import type { CachePod } from './cache-pod.js';

export interface NamedCachePod {
  name: string;
  pod: CachePod;
}

export const redisConfig = (password: string): RedisConfig => ({
  password,
  timeouts: { connectMs: 500, queryMs: 1000 },
});

export const redisEndpoints = (
  pods: NamedCachePod[],
  primary: NamedCachePod,
  opts: { nodeNotReady?: string } = {},
): RedisMemberEndpoint[] =>
  pods.map((p, ordinal) => ({
    pod: p.name,
    ordinal,
    host: '127.0.0.1',
    replicationHost: '127.0.0.1',
    port: p.pod.port,
    role: p === primary ? 'primary' : 'replica',
    ready: true,
    nodeReady: p.name !== opts.nodeNotReady,
  }));

/**
 * Observes and decides every `intervalMs` until the decision is not a wait (or `timeoutMs` passes), tracking
 * since when the primary has been down, as the monitor does. Returns the decision and every wait reason.
 */
export async function decideRedisWhenReady(
  members: RedisMemberEndpoint[],
  primary: string,
  settings: FailoverSettings,
  cfg: RedisConfig,
  timeoutMs = 30_000,
  intervalMs = 200,
): Promise<{ decision: RedisDecision; waits: string[]; state: RedisGroupState }> {
  const waits: string[] = [];
  let primaryDownSince: number | undefined;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const observed = await observeRedisGroup(members, cfg);
    const now = Date.now();
    const p = observed.find((m) => m.pod === primary);
    if (p && (!p.reachable || !p.nodeReady)) primaryDownSince ??= now;
    else primaryDownSince = undefined;
    const state: RedisGroupState = {
      members: observed,
      primary,
      ...(primaryDownSince ? { primaryDownSince } : {}),
    };
    const decision = decideRedisFailover(state, settings, now);
    if (decision.action !== 'wait') return { decision, waits, state };
    if (waits.at(-1) !== decision.reason) waits.push(decision.reason);
    if (now > deadline) throw new Error(`still waiting after ${timeoutMs} ms: ${decision.reason}`);
    await sleep(intervalMs);
  }
}

/** `promise`, or a rejection after `ms`. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer to ${what} within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface Ack {
  key: string;
  at: number;
}

/**
 * Writes session keys one by one, as the app does, to the server `target()` names (the client Service's pod at
 * that moment), connecting again after any error. A key counts only when its SET returned OK.
 */
export class SessionWriter {
  readonly acks: Ack[] = [];
  readonly errors: string[] = [];
  private running = true;
  private n = 0;
  private readonly loop: Promise<void>;

  constructor(
    private readonly target: () => CachePod,
    private readonly password: string,
    /** Keys are `<prefix>:<n>`. */
    private readonly prefix = 'session',
  ) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const client = createClient({
        socket: {
          host: '127.0.0.1',
          port: this.target().port,
          connectTimeout: 500,
          reconnectStrategy: false,
        },
        password: this.password,
        disableOfflineQueue: true,
      });
      client.on('error', () => {});
      try {
        // A frozen server accepts the connection but never answers: give up, as an app's client does.
        await within(1000, 'the handshake', client.connect());
        while (this.running) {
          const key = `${this.prefix}:${this.n++}`;
          const reply = String(await within(2000, 'SET', client.sendCommand(['SET', key, `cart of ${key}`])));
          if (reply !== 'OK') throw new Error(`SET answered ${reply}`);
          this.acks.push({ key, at: Date.now() });
        }
      } catch (e) {
        const message = (e as Error).message;
        if (this.errors.at(-1) !== message) this.errors.push(message);
        await sleep(20);
      } finally {
        client.destroy();
      }
    }
  }

  /** Waits until writes have been acknowledged for `ms` (from the first acknowledgement). */
  async waitForWritingMs(ms: number): Promise<void> {
    await waitFor(`${ms} ms of acknowledged writes`, async () => {
      const first = this.acks[0]?.at;
      return first !== undefined && Date.now() - first >= ms;
    });
  }

  /** Waits until `n` more writes are acknowledged than now. */
  async waitForMore(n: number, timeoutMs = 30_000): Promise<void> {
    const want = this.acks.length + n;
    await waitFor(`${want} acknowledged writes`, async () => this.acks.length >= want, timeoutMs);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /**
   * The longest time without an acknowledged write from the last acknowledgement before `t` on (a reply
   * already on its way at `t` does not hide the pause that follows).
   */
  longestPauseFromMs(t: number): number {
    const from = this.acks.filter((a) => a.at <= t).at(-1)?.at ?? t;
    let last = from;
    let gap = 0;
    for (const a of this.acks.filter((x) => x.at > from)) {
      gap = Math.max(gap, a.at - last);
      last = a.at;
    }
    return gap;
  }
}

/** A client of one pod's server, for the test's own reads. */
export async function redisOf(pod: CachePod) {
  const c = createClient({ url: pod.url, socket: { reconnectStrategy: false } });
  c.on('error', () => {});
  await c.connect();
  return c;
}

/** The keys a server holds (session keys by default). */
export async function sessionKeys(pod: CachePod, pattern = 'session:*'): Promise<Set<string>> {
  const c = await redisOf(pod);
  try {
    return new Set(await c.keys(pattern));
  } finally {
    c.destroy();
  }
}

/** INFO replication of a server, as key → value. */
export async function replicationInfo(pod: CachePod): Promise<Record<string, string>> {
  const c = await redisOf(pod);
  try {
    return parseInfo(await c.info('replication'));
  } finally {
    c.destroy();
  }
}
