// A replication group for the failover tests: a decision loop (observe → decide) as the reconciler will run it, and a client that
// writes without pause through "the write Service" and records every insert the server acknowledged.
import mysql from 'mysql2/promise';
import type { Decision, FailoverSettings, GroupState } from '../../src/replication/decide.js';
import { decideFailover } from '../../src/replication/decide.js';
import { observeGroup, type MemberEndpoint } from '../../src/replication/executor.js';
import { executorConfig } from './operator-pass.js';
import { sleep, waitFor } from '../services/ports.js';
import { APP_DATABASE } from './clients.js';
import { CREDENTIALS } from './fixtures.js';
import type { DatabasePod } from './pod.js';

export { endpoints, executorConfig, OPERATOR } from './operator-pass.js';

/**
 * Observes and decides every `intervalMs` until the decision is not a wait (or `timeoutMs` passes), tracking
 * since when the primary has been down, as the reconciler will. Returns the decision and every wait reason.
 */
export async function decideWhenReady(
  members: MemberEndpoint[],
  primary: string,
  settings: FailoverSettings,
  timeoutMs = 30_000,
  intervalMs = 200,
): Promise<{ decision: Decision; waits: string[]; state: GroupState }> {
  const waits: string[] = [];
  let primaryDownSince: number | undefined;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const observed = await observeGroup(members, executorConfig, primary);
    const now = Date.now();
    const p = observed.find((m) => m.pod === primary);
    if (p && (!p.reachable || !p.nodeReady)) primaryDownSince ??= now;
    else primaryDownSince = undefined;
    const state: GroupState = {
      members: observed,
      primary,
      ...(primaryDownSince ? { primaryDownSince } : {}),
    };
    const decision = decideFailover(state, settings, now);
    if (decision.action !== 'wait') return { decision, waits, state };
    if (waits.at(-1) !== decision.reason) waits.push(decision.reason);
    if (now > deadline) throw new Error(`still waiting after ${timeoutMs} ms: ${decision.reason}`);
    await sleep(intervalMs);
  }
}

export interface Ack {
  value: string;
  at: number;
}

/**
 * Inserts rows one by one, as the app would, into the server `target()` names (the write Service's pod at
 * that moment), reconnecting after any error. A row counts only when its INSERT returned success.
 */
export class AcknowledgedWriter {
  readonly acks: Ack[] = [];
  readonly errors: string[] = [];
  private running = true;
  private n = 0;
  private readonly loop: Promise<void>;

  constructor(
    private readonly target: () => DatabasePod,
    readonly table: string,
  ) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (this.running) {
      let conn: mysql.Connection | undefined;
      try {
        conn = await mysql.createConnection({
          host: '127.0.0.1',
          port: this.target().server!.port,
          user: 'app',
          password: CREDENTIALS.appPassword,
          database: APP_DATABASE,
          connectTimeout: 1000,
        });
        while (this.running) {
          const value = `w-${this.n++}`;
          await conn.query({ sql: `INSERT INTO ${this.table} (v) VALUES (?)`, timeout: 2000 }, [value]);
          this.acks.push({ value, at: Date.now() });
        }
      } catch (e) {
        const message = (e as Error).message;
        if (this.errors.at(-1) !== message) this.errors.push(message);
        await sleep(50);
      } finally {
        conn?.destroy();
      }
    }
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

export async function rowValues(pod: DatabasePod, table: string): Promise<Set<string>> {
  const rows = await pod.server!.query<{ v: string }[]>(`SELECT v FROM ${APP_DATABASE}.${table}`);
  return new Set(rows.map((r) => r.v));
}
