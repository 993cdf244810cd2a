// One pass of the resharding mover over an app's database groups. The controller calls it on every reconcile of
// an app with a database (sharded or not) and writes status, events and metrics from its result:
//
//   const result = await reshardPass(topology, { count, batchBuckets, mapMaxAgeMs }, { onBatch, logger... });
//   // result.state: 'idle'    the map equals the target's and nothing is in progress: requeue normally
//   //               'moving'  batches remain (the pass stopped at its time budget): requeue at once
//   //               'waiting' the drain (2 × mapMaxAgeMs after the last flip) has not ended: requeue after
//   //                         result.retryAfterMs
//   //               'failed'  a batch was rolled back (result.reason: KeyConflict names the table) or a server
//   //                         could not be reached (reason Error): requeue after result.retryAfterMs
//
// The pass is idempotent and resumable: every step is recorded in the map row's `progress` before it acts, so a
// pass killed at any point (the operator restarted, a server gone) is taken up by the next one. It connects as
// the app user (ALL on the app database; the operator's own account has no data privileges), one connection per
// server for the pass, through src/replication/connect.ts. What each step does is in batch.ts; the statements
// are in sql.ts; the contract with the apps in contract.ts.
import type { Engine } from '../api/v1alpha1/index.js';
import type { ServerAddress, ServerConnection, Timeouts } from '../replication/connect.js';
import type { FailureReason, Progress } from './progress.js';

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
  /** Rows copied, over all sharded tables. */
  rows: number;
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
  /** Why the pass failed: a batch rolled back, or an error (a server unreachable, a statement refused). */
  reason?: FailureReason | 'Error';
  /** The last batch's write pause (ms). */
  lastPauseMs?: number;
  /** For 'waiting' and 'failed': when to run the next pass. */
  retryAfterMs?: number;
}

export async function reshardPass(
  topology: Topology,
  target: Target,
  deps: PassDeps = {},
): Promise<PassResult> {
  void topology;
  void target;
  void deps;
  throw new Error('reshardPass: not implemented yet');
}
