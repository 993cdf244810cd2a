// The steps of a resharding, each a function of the pass's context and the recorded progress. Each returns the
// map as it stands after the step (the next step is recorded in its progress) or, to end the pass, a result.
// Writes between records are idempotent, so a step interrupted anywhere is simply run again.
import type { SqlClient } from '../replication/sql.js';
import { copyBatch, deleteMovedRows, KeyConflict, syncBatch, uncopyBatch, verifyBatch } from './copy.js';
import { type ShardMapState } from './map.js';
import type { PassDeps, PassResult, Target } from './pass.js';
import { planResharding, plannedBuckets } from './plan.js';
import type { Batch, FailureReason, Progress, Step } from './progress.js';
import type { Servers } from './servers.js';
import { dbNow, deleteFence, strayBuckets, setFence, setLockWait } from './sql.js';
import { changeMap } from './store.js';
import { describeUnbucketed, findUnbucketed, UNBUCKETED_RETRY_MS } from './unbucketed.js';

export type Options = Required<Omit<PassDeps, 'onStep' | 'onBatch'>> & Pick<PassDeps, 'onStep' | 'onBatch'>;

export interface Context {
  database: string;
  target: Target;
  servers: Servers;
  main: SqlClient;
  opts: Options;
  /** The progress this pass last recorded: a step run from any other was recorded by an earlier pass. */
  recorded?: Progress;
}

export type Outcome = { map: ShardMapState } | { result: PassResult };

const MAX_COPY_ATTEMPTS = 3;

/** Builds a result from the map (and its progress, or the last one this pass saw). */
export function result(
  map: ShardMapState,
  state: PassResult['state'],
  message: string,
  extra: Partial<PassResult> = {},
  last: Progress | undefined = map.progress,
): PassResult {
  return {
    state,
    version: map.version,
    movedBuckets: last?.movedBuckets ?? 0,
    totalBuckets: last?.totalBuckets ?? 0,
    message,
    ...(last?.lastPauseMs !== undefined ? { lastPauseMs: last.lastPauseMs } : {}),
    ...extra,
  };
}

export const describeBatch = (b: Batch) =>
  `${b.buckets.length} buckets from ${owner(b.from)} to ${owner(b.to)}`;
const owner = (o: number) => (o === -1 ? 'main' : `shard ${o}`);
const without = (list: readonly number[], drop: readonly number[]) => list.filter((b) => !drop.includes(b));

/**
 * Changes the map under its lock, from the progress `from` only: when another pass (a second operator, or one
 * that outlived its lease) has moved on since this one read it, this one stops instead of acting twice. A step
 * changes fences inside `change` only: then the lock is held and the progress checked while they change, so a
 * pass whose progress is stale never sets a fence the current pass has set otherwise.
 */
function changeFrom(
  ctx: Context,
  from: Progress | undefined,
  change: (map: ShardMapState, now: number) => ShardMapState | Promise<ShardMapState>,
): Promise<ShardMapState> {
  return changeMap(ctx.main, (m, now) => {
    const at = (q: Progress | undefined) => (q ? `${q.step} of batch ${q.batch}` : 'no resharding');
    if (at(m.progress) !== at(from) || (m.progress?.error === undefined) !== (from?.error === undefined)) {
      throw new Error(
        `another pass moved the resharding on (${at(m.progress)}, this pass was at ${at(from)})`,
      );
    }
    return change(m, now);
  }).then((map) => {
    ctx.recorded = map.progress;
    return map;
  });
}

/** Records the progress `change` makes (no version change: apps ignore progress), then tells onStep. */
export async function record(
  ctx: Context,
  from: Progress | undefined,
  change: (p: Progress, now: number) => Progress | undefined,
) {
  const map = await changeFrom(ctx, from, (m, now) => ({ ...m, progress: change(m.progress!, now) }));
  if (map.progress) ctx.opts.onStep?.(map.progress);
  return map;
}

const toStep = (step: Step) => (p: Progress) => ({ ...p, step });

/** A new resharding (or a new target for one in progress): plan from the owners now, record the first batch. */
export function planned(map: ShardMapState, target: Target, now: number, base?: Progress): Progress {
  const plan = planResharding(map.owners, target.count, target.batchBuckets);
  const fromCount = map.owners.every((o) => o === -1) ? 0 : Math.max(...map.owners) + 1;
  const moved = base?.movedBuckets ?? 0;
  const next: Progress = {
    fromCount: base?.fromCount ?? fromCount,
    toCount: target.count,
    batchBuckets: target.batchBuckets,
    batch: base?.batch ?? 0,
    step: plan.length > 0 ? 'precopy' : 'drain',
    totalBuckets: moved + plannedBuckets(plan),
    movedBuckets: moved,
    startedAt: base?.startedAt ?? now,
  };
  if (!base) next.holdUntil = now + 2 * target.mapMaxAgeMs;
  if (plan[0]) next.current = plan[0];
  if (base?.lastFlipAt !== undefined) next.lastFlipAt = base.lastFlipAt;
  if (base?.lastPauseMs !== undefined) next.lastPauseMs = base.lastPauseMs;
  return next;
}

/** Waits (sleeps, or ends the pass with 'waiting' when longer than maxWaitMs) until the DB clock reaches `until`. */
async function waitUntil(
  ctx: Context,
  map: ShardMapState,
  until: number,
  why: string,
): Promise<Outcome | undefined> {
  const wait = until - (await dbNow(ctx.main));
  if (wait <= 0) return undefined;
  if (wait > ctx.opts.maxWaitMs) {
    return { result: result(map, 'waiting', `${why}: ${wait} ms more`, { retryAfterMs: wait }) };
  }
  await ctx.opts.sleep(wait);
  return { map };
}

/** The result of a pass held by rows without a bucket on `owners` (see unbucketed.ts), or undefined. */
async function heldByUnbucketed(
  ctx: Context,
  owners: readonly number[],
  until: string,
  map: () => Promise<ShardMapState>,
): Promise<Outcome | undefined> {
  const found = await findUnbucketed(ctx.servers, ctx.database, owners);
  if (!found) return undefined;
  const message = describeUnbucketed(found, until);
  const extra = { reason: 'UnbucketedRows' as const, retryAfterMs: UNBUCKETED_RETRY_MS };
  return { result: result(await map(), 'waiting', message, extra) };
}

const noBucketMoves = (p: Progress) => `no bucket moves off ${owner(p.current!.from)} until none is left`;

/**
 * 0. precopy: the batch's rows to the destination (its fence `incoming`) while the source still takes writes;
 * not while the source holds rows without a bucket (some may be the batch's).
 */
async function precopy(ctx: Context, p: Progress, current: ShardMapState): Promise<Outcome> {
  const held = await heldByUnbucketed(ctx, [p.current!.from], noBucketMoves(p), async () => current);
  if (held) return held;
  try {
    await copyBatch(ctx.servers, p.current!, { database: ctx.database, chunkRows: ctx.opts.chunkRows });
  } catch (e) {
    if (e instanceof KeyConflict) return rollBack(ctx, p, 'KeyConflict', e.message, e.table);
    throw e;
  }
  return { map: await record(ctx, p, toStep('pause')) };
}

/** 1. pause: the map lists the batch as moving (apps that read it stop writing it). */
async function pause(ctx: Context, p: Progress, current: ShardMapState): Promise<Outcome> {
  const batch = p.current!;
  if (p.holdUntil !== undefined) {
    const held = await waitUntil(ctx, current, p.holdUntil, 'waiting for every app to have read the new map');
    if (held) return held;
  }
  // Both groups must answer before the batch's writes pause (an unreachable one fails the pass here instead).
  await Promise.all([ctx.servers.primary(batch.from), ctx.servers.primary(batch.to)]);
  // Rows without a bucket written during the precopy: back to it, which waits until they are filled.
  const unbucketed = await heldByUnbucketed(ctx, [batch.from], noBucketMoves(p), () =>
    record(ctx, p, toStep('precopy')),
  );
  if (unbucketed) return unbucketed;
  const map = await changeFrom(ctx, p, (m, now) => {
    const { holdUntil: _h, ...q } = m.progress!;
    return {
      ...m,
      version: m.version + 1,
      moving: [...new Set([...m.moving, ...batch.buckets])].sort((a, b) => a - b),
      progress: { ...q, step: 'fence', pausedAt: now, copyAttempts: 0 },
    };
  });
  ctx.opts.onStep?.(map.progress!);
  return { map };
}

/** 2. fence: the source refuses the batch's writes, once every write that passed its check has ended. */
async function fence(ctx: Context, p: Progress): Promise<Outcome> {
  const source = await ctx.servers.primary(p.current!.from);
  await setLockWait(source, ctx.opts.lockWaitSeconds);
  const map = await changeFrom(ctx, p, async (m) => {
    await setFence(source, p.current!.buckets, 'moving');
    return { ...m, progress: { ...m.progress!, step: 'copy' } };
  });
  ctx.opts.onStep?.(map.progress!);
  return { map };
}

/**
 * A step taken up from an earlier pass's record: the batch's fences set again as the progress says they are
 * (source `moving`, destination `incoming`), under the map row's lock. A pass that died inside a rollback may have
 * set the source back to `owned` (and dropped the destination's rows and fence) without recording it.
 */
async function refence(ctx: Context, p: Progress): Promise<void> {
  if (ctx.recorded === p) return;
  const batch = p.current!;
  const [source, dest] = [await ctx.servers.primary(batch.from), await ctx.servers.primary(batch.to)];
  await setLockWait(source, ctx.opts.lockWaitSeconds);
  await changeFrom(ctx, p, async (m) => {
    await setFence(source, batch.buckets, 'moving');
    await setFence(dest, batch.buckets, 'incoming');
    return m;
  });
}

/** 3. copy: what changed on the source since the precopy, now that it is fenced; a key conflict rolls back. */
async function copy(ctx: Context, p: Progress): Promise<Outcome> {
  await refence(ctx, p);
  try {
    await syncBatch(ctx.servers, p.current!, { database: ctx.database, chunkRows: ctx.opts.chunkRows });
  } catch (e) {
    if (e instanceof KeyConflict) return rollBack(ctx, p, 'KeyConflict', e.message, e.table);
    throw e;
  }
  return { map: await record(ctx, p, toStep('verify')) };
}

/** 4. verify: counts and checksums equal on the destination's primary and replicas; a mismatch copies again. */
async function verify(ctx: Context, p: Progress): Promise<Outcome> {
  await refence(ctx, p);
  const verdict = await verifyBatch(ctx.servers, p.current!, {
    database: ctx.database,
    timeoutMs: ctx.opts.verifyTimeoutMs,
    sleep: ctx.opts.sleep,
    now: ctx.opts.now,
  });
  if (verdict.ok) return { map: await record(ctx, p, (q) => ({ ...q, step: 'flip', rows: verdict.rows })) };
  const attempts = (p.copyAttempts ?? 0) + 1;
  if (verdict.reason === 'VerifyMismatch' && attempts < MAX_COPY_ATTEMPTS) {
    return { map: await record(ctx, p, (q) => ({ ...q, step: 'copy', copyAttempts: attempts })) };
  }
  return rollBack(ctx, p, verdict.reason, verdict.message, verdict.table);
}

/**
 * 5. flip: the destination owns the batch, the source's rows stay (fenced `moved`) until the drain ends. The
 * fences change under the map row's lock, the progress checked (see changeFrom), destination first: a pass that
 * dies in between leaves the step at flip with the batch paused in the map, and the next pass sets both again.
 */
async function flip(ctx: Context, p: Progress): Promise<Outcome> {
  const batch = p.current!;
  const [dest, source] = [await ctx.servers.primary(batch.to), await ctx.servers.primary(batch.from)];
  const map = await changeFrom(ctx, p, async (m, now) => {
    await setFence(dest, batch.buckets, 'owned');
    await setFence(source, batch.buckets, 'moved');
    const owners = m.owners.map((o, b) => (batch.buckets.includes(b) ? batch.to : o));
    const q = m.progress!;
    const next: ShardMapState = {
      version: m.version + 1,
      owners,
      moving: without(m.moving, batch.buckets),
      progress: q,
    };
    const pauseMs = now - (q.pausedAt ?? now);
    next.progress = planned(next, { ...ctx.target, count: q.toCount, batchBuckets: q.batchBuckets }, now, {
      ...q,
      batch: q.batch + 1,
      movedBuckets: q.movedBuckets + batch.buckets.length,
      lastFlipAt: now,
      lastPauseMs: pauseMs,
    });
    return next;
  });
  ctx.opts.onStep?.(map.progress!);
  ctx.opts.onBatch?.({
    ...batch,
    ...(p.rows !== undefined ? { rows: p.rows } : {}),
    pauseMs: map.progress!.lastPauseMs!,
    version: map.version,
  });
  return { map };
}

/** After the last flip: wait until every app has had to read a map that has it (2 × max age, DB clock). */
async function drain(ctx: Context, p: Progress, map: ShardMapState): Promise<Outcome> {
  if (p.lastFlipAt !== undefined) {
    const until = p.lastFlipAt + 2 * ctx.target.mapMaxAgeMs;
    const held = await waitUntil(ctx, map, until, 'draining: the sources keep the moved rows');
    if (held) return held;
  }
  return { map: await record(ctx, p, toStep('delete')) };
}

/**
 * Then the sources' moved rows go, a chunk at a time, with their fence rows; the resharding is done. Not while a
 * source holds rows without a bucket: filled after the delete, one of a moved bucket would sit where no app reads.
 */
async function cleanUp(ctx: Context, p: Progress, map: ShardMapState): Promise<Outcome> {
  const sources: { group: number; client: SqlClient; buckets: number[] }[] = [];
  for (const group of ctx.servers.owners()) {
    const client = await ctx.servers.primary(group);
    const buckets = (await strayBuckets(client)).filter((b) => map.owners[b] !== group);
    if (buckets.length > 0) sources.push({ group, client, buckets });
  }
  const until = 'the moved rows are deleted from the sources only once none is left';
  const held = await heldByUnbucketed(
    ctx,
    sources.map((s) => s.group),
    until,
    async () => map,
  );
  if (held) return held;
  for (const { client, buckets } of sources) {
    await deleteMovedRows(client, buckets, { database: ctx.database, chunkRows: ctx.opts.chunkRows });
    await deleteFence(client, buckets);
  }
  return { map: await record(ctx, p, () => undefined) };
}

/**
 * Undoes a batch that cannot complete: the destination's copy and fence rows go (unless it does not answer: then
 * they stay until the batch is tried again, whose precopy replaces them, or the cleanup), the source owns it again.
 */
async function rollBack(
  ctx: Context,
  p: Progress,
  reason: FailureReason,
  message: string,
  table?: string,
): Promise<Outcome> {
  const batch = p.current!;
  const dest = reason !== 'DestinationUnreachable' ? await ctx.servers.primary(batch.to) : undefined;
  const source = await ctx.servers.primary(batch.from);
  // Under the map row's lock, the progress checked: a stale pass must not undo a batch another pass flipped.
  const map = await changeFrom(ctx, p, async (m, now) => {
    if (dest) {
      await uncopyBatch(ctx.servers, batch, ctx.database);
      await deleteFence(dest, batch.buckets);
    }
    await setFence(source, batch.buckets, 'owned');
    const { pausedAt: _p, copyAttempts: _c, rows: _r, ...rest } = m.progress!;
    const error = { reason, message, at: now, ...(table !== undefined ? { table } : {}) };
    return {
      ...m,
      version: m.version + 1,
      moving: without(m.moving, batch.buckets),
      progress: { ...rest, step: 'precopy' as const, error },
    };
  });
  ctx.opts.onStep?.(map.progress!);
  const text = `${reason}: the batch of ${describeBatch(batch)} was rolled back, writes resumed; ${message}`;
  return { result: result(map, 'failed', text, { reason, retryAfterMs: ctx.opts.retryAfterMs }) };
}

/**
 * A batch whose writes are paused and whose destination does not answer: once they have been paused
 * unreachableRollbackMs (DB clock), it is rolled back without the destination, so writes resume on the source.
 * Safe before the flip only: until then the map names the source as the owner (apps route every read and write
 * there) and the destination's fence says `incoming`, so it holds no write the source lacks; once the flip has
 * begun, its fence may say `owned` and it may hold writes, so the batch waits for it (the flip takes
 * milliseconds). Returns undefined when nothing is to be done.
 */
export async function abandonUnreachable(ctx: Context, map: ShardMapState): Promise<Outcome | undefined> {
  const p = map.progress;
  if (!p?.current || p.error || p.pausedAt === undefined) return undefined;
  if (!(['fence', 'copy', 'verify'] as Step[]).includes(p.step)) return undefined;
  const pausedMs = (await dbNow(ctx.main)) - p.pausedAt;
  if (pausedMs < ctx.opts.unreachableRollbackMs) return undefined;
  try {
    await (await ctx.servers.primary(p.current.to)).query('SELECT 1');
    return undefined;
  } catch (e) {
    const message = `${owner(p.current.to)}'s primary did not answer after the batch's writes were paused ${pausedMs} ms (${(e as Error).message}); the batch is tried again once it does`;
    return rollBack(ctx, p, 'DestinationUnreachable', message);
  }
}

export const STEP_ACTIONS: Record<Step, (ctx: Context, p: Progress, map: ShardMapState) => Promise<Outcome>> =
  {
    precopy,
    pause,
    fence,
    copy,
    verify,
    flip,
    drain,
    delete: cleanUp,
  };
