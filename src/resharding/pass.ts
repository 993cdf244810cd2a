// One pass of the resharding mover over an app's database groups. The controller calls it on every reconcile of
// an app with a database (sharded or not), one pass per app at a time, and writes status, events and metrics
// from its result:
//
//   const result = await reshardPass(topology, { count, batchBuckets, mapMaxAgeMs, seedCount }, { onBatch });
//   // result.state: 'idle'    the map equals the target's and nothing is in progress: requeue normally
//   //               'moving'  batches remain (the pass stopped at its time budget): requeue at once
//   //               'waiting' a wait longer than maxWaitMs (the hold before a new resharding's first batch, or
//   //                         the drain after its last flip), or rows with shard_bucket NULL on the next batch's
//   //                         source or, at the end, on a source (reason UnbucketedRows; the message names the
//   //                         table, the group and the rows: the app must fill shard_bucket; see unbucketed.ts):
//   //                         requeue after result.retryAfterMs
//   //               'failed'  a batch was rolled back, writes resumed (reason KeyConflict, VerifyMismatch,
//   //                         ReplicaLag, DestinationUnreachable; the message names the table, replica or group;
//   //                         tried again retryAfterMs after the rollback, or at once for a new target), or an
//   //                         error (reason Error: a server unreachable, a statement refused): requeue after
//   //                         result.retryAfterMs (1 s when a batch's writes are paused; once they have been paused
//   //                         unreachableRollbackMs, 30 s, while the destination does not answer, the batch is
//   //                         rolled back without it)
//
// The first pass creates the map (from seedCount: the count the data follows) after every group's fence rows.
// Then, while the map differs from the target's: plan, and per batch precopy (writes still flowing) → pause →
// fence → copy (only the rows that changed) → verify → flip, each recorded in the map row's `progress` before it
// acts (or with it, in the same transaction), so a pass killed at any point (the operator restarted, a server
// gone) is taken up by the next one; then drain and delete the moved rows from the sources. A batch's write
// pause holds two reads of its rows and the rows written meanwhile (bench/resharding-copy.ts: 142 ms for a
// batch of 12,500 rows); the mover keeps a batch's keys in memory, so batches of millions of rows want fewer
// buckets. It connects as the app user (ALL on the app database; the operator's own account has
// no data privileges), one connection per server for the pass, through src/replication/connect.ts. The steps
// are in steps.ts, the rows in copy.ts, the statements in sql.ts, the names shared with apps in contract.ts.
import type { Engine } from '../api/v1alpha1/index.js';
import {
  connectServer,
  type ServerAddress,
  type ServerConnection,
  type Timeouts,
} from '../replication/connect.js';
import { MAIN_OWNER } from './contract.js';
import { bucketsOf, newMap, sameOwners, type ShardMapState, targetOwners, validateOwners } from './map.js';
import type { FailureReason, Progress } from './progress.js';
import { Servers } from './servers.js';
import { ensureFenceTable, dbNow, insertOwned } from './sql.js';
import {
  abandonUnreachable,
  type Context,
  describeBatch,
  type Options,
  type Outcome,
  planned,
  record,
  result,
  STEP_ACTIONS,
} from './steps.js';
import { loadMap, storeNewMap } from './store.js';

export interface HostPort {
  host: string;
  port: number;
}

/** One database group: its primary, and the replicas its read URL balances over. */
export interface Endpoints {
  primary: HostPort;
  replicas: HostPort[];
}

export interface Topology {
  engine: Engine;
  /** The app database, where the app's tables and the operator's `_sapp_*` tables live on every group. */
  database: string;
  /** The app user's credentials. */
  user: string;
  password: string;
  /** The main database group (owner -1). */
  main: Endpoints;
  /** Shard i is owner i. Must list every shard the map or the target names (a shrink still lists the leaving ones). */
  shards: Endpoints[];
}

export interface Target {
  /** The shard count to reach (0: every bucket on the main database). */
  count: number;
  /** Buckets moved per batch (one write pause each). */
  batchBuckets: number;
  /** The apps' SHARD_MAP_MAX_AGE_MS: sources keep moved rows until 2 × this after the last flip. */
  mapMaxAgeMs: number;
  /**
   * The shard count the data follows when no map exists yet (the count the apps routed by, statically, before
   * this operator); default `count`. The first pass creates the map from it, and then moves towards `count`.
   */
  seedCount?: number;
}

/** One batch moved: for events and metrics. */
export interface BatchMoved {
  from: number;
  to: number;
  buckets: number[];
  /**
   * The batch's rows over all sharded tables, as verify counted them on the source; absent when unknown (a flip
   * recorded by an operator version that did not record the count).
   */
  rows?: number;
  /** The batch's write pause: from the map listing it as moving to the flip (the main primary's clock). */
  pauseMs: number;
  version: number;
}

export interface PassDeps {
  /** Connecting and each statement (default 5 s, 60 s: a copy statement may be long). */
  timeouts?: Timeouts;
  /** Opens a connection (default connectServer from src/replication/connect.ts). */
  connect?: (address: ServerAddress, timeouts: Timeouts) => Promise<ServerConnection>;
  sleep?: (ms: number) => Promise<void>;
  /** The operator's clock, for the pass's budget only (default Date.now); durations the apps see use the DB's. */
  now?: () => number;
  /** The pass starts no new batch after this long (default 20 s) and returns 'moving'. */
  budgetMs?: number;
  /** Waits (the drain) up to this long inside the pass (default 10 s); a longer one returns 'waiting'. */
  maxWaitMs?: number;
  /** A rolled-back batch is tried again after this long (default 60 s). */
  retryAfterMs?: number;
  /**
   * A batch whose writes have been paused this long (default 30 s) while its destination does not answer is rolled
   * back without it (before its flip only; see abandonUnreachable in steps.ts).
   */
  unreachableRollbackMs?: number;
  /** How long verify waits for the destination's replicas to match (default 30 s) before rolling back. */
  verifyTimeoutMs?: number;
  /** Rows per SELECT/INSERT of the copy, and per DELETE of the cleanup (default 1,000). */
  chunkRows?: number;
  /** innodb_lock_wait_timeout of the fence's UPDATE (default 10 s): how long a write in flight may hold it. */
  lockWaitSeconds?: number;
  /** Called with the progress just recorded, before the step acts (logs; tests kill a pass here). */
  onStep?: (progress: Progress) => void;
  onBatch?: (batch: BatchMoved) => void;
}

export type PassState = 'idle' | 'moving' | 'waiting' | 'failed';

export interface PassResult {
  state: PassState;
  /** The map's version after the pass (0 when it could not be read). */
  version: number;
  movedBuckets: number;
  totalBuckets: number;
  /** One sentence for status and events. */
  message: string;
  /**
   * Why the pass failed (a batch rolled back, or an error: a server unreachable, a statement refused), or why it
   * waits on the app (UnbucketedRows).
   */
  reason?: FailureReason | 'Error' | 'UnbucketedRows';
  /** The last batch's write pause (ms). */
  lastPauseMs?: number;
  /** For 'waiting' and 'failed': when to run the next pass. */
  retryAfterMs?: number;
}

/** How soon a pass that failed with a batch's writes paused asks to run again. */
const PAUSED_RETRY_MS = 1_000;

const DEFAULTS = {
  timeouts: { connectMs: 5_000, queryMs: 60_000 },
  connect: connectServer,
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  now: Date.now,
  budgetMs: 20_000,
  maxWaitMs: 10_000,
  retryAfterMs: 60_000,
  unreachableRollbackMs: 30_000,
  verifyTimeoutMs: 30_000,
  chunkRows: 1_000,
  lockWaitSeconds: 10,
};

function checkTarget(topology: Topology, target: Target): void {
  const shards = topology.shards.length;
  const count = (what: string, n: number | undefined) => {
    if (n !== undefined && (!Number.isInteger(n) || n < 0 || n > shards)) {
      throw new Error(`${what} ${n}: the topology lists ${shards} shards`);
    }
  };
  count('target shard count', target.count);
  count('seed shard count', target.seedCount);
  if (!Number.isInteger(target.batchBuckets) || target.batchBuckets < 1) {
    throw new Error(`batchBuckets must be a positive integer, got ${target.batchBuckets}`);
  }
  if (!(target.mapMaxAgeMs >= 0))
    throw new Error(`mapMaxAgeMs must be at least 0, got ${target.mapMaxAgeMs}`);
}

/**
 * Every group's fence table, with `owned` rows for the buckets the map gives it (rows in other states are left
 * alone). With no map yet, the fences come first and then the map (from the seed count), so an app that finds
 * the map always finds fences it can write through. `strict`: a group that cannot be reached fails the pass.
 */
async function ensure(ctx: Context, strict: boolean): Promise<ShardMapState> {
  const existing = await loadMap(ctx.main);
  const map = existing ?? newMap(ctx.target.seedCount ?? ctx.target.count);
  validateOwners(map.owners, ctx.servers.owners().length - 1);
  for (const group of ctx.servers.owners()) {
    try {
      const client = await ctx.servers.primary(group);
      await ensureFenceTable(client);
      await insertOwned(client, bucketsOf(map.owners, group));
    } catch (e) {
      if (strict || !existing) throw e;
    }
  }
  if (existing) return existing;
  await storeNewMap(ctx.main, map);
  return (await loadMap(ctx.main))!;
}

export async function reshardPass(
  topology: Topology,
  target: Target,
  deps: PassDeps = {},
): Promise<PassResult> {
  const opts: Options = { ...DEFAULTS, ...deps };
  const servers = new Servers(topology, opts.connect, opts.timeouts);
  const started = opts.now();
  let map: ShardMapState | undefined;
  let last: Progress | undefined;
  try {
    checkTarget(topology, target);
    const ctx: Context = {
      database: topology.database,
      target,
      servers,
      main: await servers.primary(MAIN_OWNER),
      opts,
    };
    const goal = targetOwners(target.count);
    const before = await loadMap(ctx.main);
    // A batch paused since an earlier pass: a failure below (a group that does not answer) is retried soon.
    last = before?.progress;
    const abandoned = before && (await abandonUnreachable(ctx, before));
    if (abandoned && 'result' in abandoned) return abandoned.result;
    const idle = (m: ShardMapState | undefined) => !!m && !m.progress && sameOwners(m.owners, goal);
    map = await ensure(ctx, !idle(before));
    let batches = 0;
    for (;;) {
      const cur: ShardMapState = map;
      const p: Progress | undefined = cur.progress;
      if (p) last = p;
      if (!p) {
        if (sameOwners(cur.owners, goal)) {
          const done = last ? `resharded to ${last.toCount} shards: ${last.movedBuckets} buckets moved` : '';
          return result(cur, 'idle', done || `the map is at ${target.count} shards`, {}, last);
        }
        map = await record(ctx, undefined, (_p, now) => planned(cur, target, now));
        continue;
      }
      if (p.error) {
        const wait = p.error.at + opts.retryAfterMs - (await dbNow(ctx.main));
        const retarget = p.toCount !== target.count || p.batchBuckets !== target.batchBuckets;
        if (wait > 0 && !retarget) {
          const text = `${p.error.reason}: ${p.error.message}; the batch is tried again in ${wait} ms`;
          return result(cur, 'failed', text, { reason: p.error.reason, retryAfterMs: wait });
        }
        map = await record(ctx, p, ({ error: _e, ...q }) => q);
        continue;
      }
      if (
        (p.step === 'precopy' || p.step === 'pause' || p.step === 'drain') &&
        (p.toCount !== target.count || p.batchBuckets !== target.batchBuckets)
      ) {
        map = await record(ctx, p, (q, now) => planned(cur, target, now, q));
        continue;
      }
      if (p.step === 'precopy' && batches > 0 && opts.now() - started >= opts.budgetMs) {
        const text = `moving: ${p.movedBuckets} of ${p.totalBuckets} buckets moved, next ${describeBatch(p.current!)}`;
        return result(cur, 'moving', text);
      }
      if (p.step === 'flip') batches++;
      const out: Outcome = await STEP_ACTIONS[p.step](ctx, p, cur);
      if ('result' in out) return out.result;
      map = out.map;
    }
  } catch (e) {
    // A batch whose writes are paused is taken up again soon; otherwise after the usual interval.
    const paused = !!last && ['fence', 'copy', 'verify', 'flip'].includes(last.step);
    const message = `resharding pass failed: ${(e as Error).message}${paused ? `; writes to ${last!.current!.buckets.length} buckets stay paused until the next pass` : ''}`;
    const failed: PassResult = {
      state: 'failed',
      version: map?.version ?? 0,
      movedBuckets: last?.movedBuckets ?? 0,
      totalBuckets: last?.totalBuckets ?? 0,
      message,
      reason: 'Error',
      retryAfterMs: paused ? Math.min(PAUSED_RETRY_MS, opts.retryAfterMs) : opts.retryAfterMs,
    };
    return failed;
  } finally {
    await servers.close();
  }
}
