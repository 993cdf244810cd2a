// What to do about a replication group's primary, decided from observed state alone: no I/O, no clock (the
// caller passes `now`). One step per call; the caller acts, observes again and asks again.
import { compare, format, type GtidSet, isEmpty, size, subtract } from './gtid.js';

export interface MemberState {
  pod: string;
  ordinal: number;
  /** The operator connected and read the server's state (within its short timeout). */
  reachable: boolean;
  /** The pod's Ready condition. */
  ready: boolean;
  /** The Ready condition of the pod's node (false: NotReady or unknown). */
  nodeReady: boolean;
  /** The pod's role label. */
  role: 'primary' | 'replica';
  /** Transactions executed, plus those received and not yet applied (reachable members only). */
  gtid?: GtidSet;
  /** Seconds behind its source (replicas; undefined when replication is not running). */
  lagSeconds?: number;
  /** read_only (MariaDB) / super_read_only (MySQL) is on. */
  readOnly?: boolean;
  /** The pod this member replicates from (undefined: it replicates from nobody). */
  source?: string;
  /** A primary waits for a replica's acknowledgement of each commit (false: semi-sync off, or fell back to async). */
  semiSyncActive?: boolean;
}

export interface GroupState {
  members: MemberState[];
  /** The pod recorded as primary (status), which the write Service selects. */
  primary: string;
  /** When the primary was first seen unreachable or on a NotReady node, without being seen healthy since (ms). */
  primaryDownSince?: number;
  /** When the operator last promoted a replica of this group (ms). */
  lastFailoverAt?: number;
  /** Members decided for rebuild and not rebuilt yet: they hold transactions the primary lacked. */
  flaggedForRebuild?: string[];
  /** A person asked for the primary to hand over (planned switchover: maintenance, an image roll). */
  switchoverRequested?: boolean;
}

export interface FailoverSettings {
  /** How long the primary may be unreachable before a replica is promoted; 0 turns automatic failover off. */
  unreachableSeconds: number;
  /** No automatic failover sooner than this after the last one (flap damping). */
  minSecondsBetweenFailovers: number;
  /** A replica further behind than this is lagging (promoted only when every candidate lags). */
  maxLagSeconds: number;
}

export type Fence = 'read_only' | 'delete-pod';

export type Decision =
  | { action: 'nothing' }
  | { action: 'wait'; reason: string }
  | {
      action: 'failover';
      from: string;
      to: string;
      /** How to keep the old primary from taking writes, before the promotion. */
      fence: Fence;
      /** The other reachable replicas, to point at the new primary. */
      repoint: string[];
      /** Planned: after fencing, the new primary first applies everything the old one executed. */
      switchover?: boolean;
      reason: string;
    }
  /** Let the recorded primary take writes; one that still follows a server (`following`) is promoted. */
  | { action: 'open'; pod: string; following?: string; reason: string }
  | { action: 'rejoin-as-replica'; pod: string; primary: string; reason: string }
  | { action: 'rebuild'; pod: string; primary: string; errant: string; reason: string };

const seconds = (ms: number) => Math.floor(ms / 1000);

/** The best candidate first: most transactions, then least lag, then lowest ordinal. */
const byAdvancement = (a: MemberState, b: MemberState) =>
  size(b.gtid!) - size(a.gtid!) ||
  (a.lagSeconds ?? Infinity) - (b.lagSeconds ?? Infinity) ||
  a.ordinal - b.ordinal;

function chooseReplacement(
  group: GroupState,
  settings: FailoverSettings,
  old: MemberState,
  now: number,
): Decision {
  const downFor = now - (group.primaryDownSince ?? now);
  const why = old.reachable
    ? `the node of primary ${old.pod} is NotReady`
    : `primary ${old.pod} is unreachable`;
  if (settings.unreachableSeconds === 0)
    return { action: 'wait', reason: `${why}; automatic failover is off` };
  if (old.nodeReady && downFor < settings.unreachableSeconds * 1000) {
    return {
      action: 'wait',
      reason: `${why} for ${seconds(downFor)} s of the ${settings.unreachableSeconds} s before failover`,
    };
  }
  if (
    group.lastFailoverAt !== undefined &&
    now - group.lastFailoverAt < settings.minSecondsBetweenFailovers * 1000
  ) {
    return {
      action: 'wait',
      reason: `${why}, but the last failover was ${seconds(now - group.lastFailoverAt)} s ago (at least ${settings.minSecondsBetweenFailovers} s between failovers)`,
    };
  }
  const candidates = group.members
    .filter(
      (m) =>
        m.pod !== old.pod && m.reachable && m.gtid !== undefined && !group.flaggedForRebuild?.includes(m.pod),
    )
    .sort(byAdvancement);
  const best = candidates[0];
  if (!best) return { action: 'wait', reason: `${why} and no replica is reachable` };
  const ahead = candidates.find((c) => compare(c.gtid!, best.gtid!) === 'diverged');
  if (ahead) {
    return {
      action: 'wait',
      reason: `${why}, but replicas ${best.pod} and ${ahead.pod} each hold transactions the other lacks (${format(subtract(ahead.gtid!, best.gtid!))})`,
    };
  }
  const lagging = candidates.every(
    (c) => c.lagSeconds === undefined || c.lagSeconds > settings.maxLagSeconds,
  );
  return {
    action: 'failover',
    from: old.pod,
    to: best.pod,
    fence: old.reachable ? 'read_only' : 'delete-pod',
    repoint: candidates.filter((c) => c !== best).map((c) => c.pod),
    reason: `${why}; ${best.pod} is the most advanced reachable replica${lagging ? ` (every replica lags more than ${settings.maxLagSeconds} s: it applies what it received before taking writes)` : ''}`,
  };
}

/**
 * A planned switchover: the primary answers, so it is fenced (read_only) and the most advanced replica takes
 * over once it holds everything the primary executed. Neither the unreachable setting nor flap damping applies:
 * a person asked. Waits when no replica can take over.
 */
function switchover(group: GroupState, primary: MemberState): Decision {
  const candidates = group.members
    .filter(
      (m) =>
        m.pod !== primary.pod &&
        m.reachable &&
        m.gtid !== undefined &&
        m.source === primary.pod &&
        !group.flaggedForRebuild?.includes(m.pod),
    )
    .sort(byAdvancement);
  const best = candidates[0];
  if (!best)
    return {
      action: 'wait',
      reason: `switchover of ${primary.pod} requested, but no replica following it is reachable`,
    };
  return {
    action: 'failover',
    from: primary.pod,
    to: best.pod,
    fence: 'read_only',
    repoint: candidates.filter((c) => c !== best).map((c) => c.pod),
    switchover: true,
    reason: `switchover requested: ${primary.pod} hands over to ${best.pod}, the most advanced replica`,
  };
}

/** A reachable member that is not the primary but takes writes, follows another server, or holds errant transactions. */
function strayMember(group: GroupState, primary: MemberState): Decision | undefined {
  for (const m of group.members) {
    if (m.pod === primary.pod || !m.reachable || m.gtid === undefined || primary.gtid === undefined) continue;
    const errant = subtract(m.gtid, primary.gtid);
    if (!isEmpty(errant)) {
      return {
        action: 'rebuild',
        pod: m.pod,
        primary: primary.pod,
        errant: format(errant),
        reason: `${m.pod} holds transactions primary ${primary.pod} lacks: it is copied again from the primary, never merged`,
      };
    }
    if (m.readOnly === false || m.source !== primary.pod) {
      return {
        action: 'rejoin-as-replica',
        pod: m.pod,
        primary: primary.pod,
        reason: `${m.pod} ${m.readOnly === false ? 'takes writes' : m.source ? `replicates from ${m.source}` : 'replicates from nobody'} but ${primary.pod} is the primary`,
      };
    }
  }
  return undefined;
}

/**
 * The recorded primary refuses writes: every server starts so (a restarted primary, a new group, a pass that
 * promoted a replica and was killed before recording it), and only the operator opens the one it records.
 */
function closedPrimary(primary: MemberState): Decision | undefined {
  if (primary.readOnly !== true) return undefined;
  return {
    action: 'open',
    pod: primary.pod,
    ...(primary.source ? { following: primary.source } : {}),
    reason: `${primary.pod} is the recorded primary and refuses writes${primary.source ? ` (it replicates from ${primary.source})` : ''}`,
  };
}

export function decideFailover(group: GroupState, settings: FailoverSettings, now: number): Decision {
  const primary = group.members.find((m) => m.pod === group.primary);
  if (!primary)
    return { action: 'wait', reason: `the recorded primary ${group.primary} is not a member of the group` };
  if (!primary.reachable || !primary.nodeReady) return chooseReplacement(group, settings, primary, now);
  // Strays first: a server that takes writes is fenced before the recorded primary is opened.
  const stray = strayMember(group, primary) ?? closedPrimary(primary);
  if (stray) return stray;
  return group.switchoverRequested ? switchover(group, primary) : { action: 'nothing' };
}
