// The mover's record of a resharding in progress, kept as JSON in the map row's `progress` column (apps ignore
// it). Every step is recorded before it acts, so a pass killed at any point resumes where it stopped. Times are
// the main primary's clock (epoch ms), so the drain never depends on the operator's clock.
import { z } from 'zod';

/** The steps of one batch, then the end of the resharding (see pass.ts). */
export const STEPS = ['precopy', 'pause', 'fence', 'copy', 'verify', 'flip', 'drain', 'delete'] as const;
export type Step = (typeof STEPS)[number];

/** Why a batch was rolled back. */
export const FAILURE_REASONS = [
  'KeyConflict',
  'VerifyMismatch',
  'ReplicaLag',
  'DestinationUnreachable',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

const owner = z.number().int().min(-1);
const count = z.number().int().min(0);

const batch = z.object({
  /** The buckets moved together, ascending. */
  buckets: z.array(z.number().int().min(0)).min(1),
  from: owner,
  to: owner,
});
export type Batch = z.infer<typeof batch>;

const failure = z.object({
  reason: z.enum(FAILURE_REASONS),
  message: z.string(),
  table: z.string().optional(),
  /** When the batch was rolled back (DB clock, epoch ms). */
  at: z.number(),
});
export type Failure = z.infer<typeof failure>;

export const progressSchema = z.object({
  fromCount: count,
  toCount: count,
  batchBuckets: z.number().int().min(1),
  /** Batches started so far; the current one's index. */
  batch: count,
  /** The next thing to do. */
  step: z.enum(STEPS),
  /**
   * The batch being moved. Recorded (not recomputed from the plan) because the plan is computed from the current
   * owners, which change at the flip: a pass killed inside the flip would otherwise resume on another batch.
   */
  current: batch.optional(),
  totalBuckets: count,
  movedBuckets: count,
  startedAt: z.number(),
  /**
   * No batch pauses before this (DB clock): a new resharding waits 2 × mapMaxAgeMs from its start, so an app
   * that last found no map (and so routes statically, without fence checks) has read the map by then.
   */
  holdUntil: z.number().optional(),
  /** When the current batch's writes paused (its map change committed). */
  pausedAt: z.number().optional(),
  /** When the last batch flipped: the drain counts from here. */
  lastFlipAt: z.number().optional(),
  /** The last batch's write pause: pause to flip, DB clock. */
  lastPauseMs: z.number().optional(),
  /** The current batch's rows, as verify counted them (recorded with the flip step, so a resumed flip has them). */
  rows: count.optional(),
  /** Copies of the current batch that verify found different. */
  copyAttempts: count.optional(),
  /** The last batch rolled back, and why; the batch is tried again after the retry interval. */
  error: failure.optional(),
});
export type Progress = z.infer<typeof progressSchema>;

/** Parses the `progress` column: '' is no resharding in progress; anything else must be a valid record. */
export function parseProgress(text: string): Progress | undefined {
  if (text.trim() === '') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`shard map progress is not JSON: ${(e as Error).message}`, { cause: e });
  }
  const parsed = progressSchema.safeParse(json);
  if (!parsed.success) throw new Error(`shard map progress is invalid: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export const serializeProgress = (p: Progress | undefined): string => (p ? JSON.stringify(p) : '');
