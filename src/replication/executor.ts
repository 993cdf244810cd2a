// Observes a replication group's servers and carries out what decideFailover decided, over SQL. What only
// Kubernetes can do (delete a pod, copy a server again) is a hook the caller passes in.
import type { Engine } from '../api/v1alpha1/index.js';
import { type ServerAddress, type Timeouts, withServer } from './connect.js';
import type { Decision, MemberState } from './decide.js';
import {
  fence,
  openWrites,
  promote,
  readState,
  repoint,
  waitForTransactions,
  writtenPosition,
} from './sql.js';

export interface MemberEndpoint {
  pod: string;
  ordinal: number;
  /** Where the operator, and the other members, reach this pod's server. */
  host: string;
  port: number;
  /** Where the other members reach this pod's server when they replicate from it (default: host). The
   *  operator may reach a pod by its IP, but a replica must follow it by a name that survives a restart. */
  replicationHost?: string;
  /** Other host names replicas may use for this pod (e.g. the write Service while it selects this pod). */
  aliases?: string[];
  role: MemberState['role'];
  ready: boolean;
  nodeReady: boolean;
  /** A person asked this pod to stop being the primary (planned switchover). */
  demote?: boolean;
}

export interface Account {
  user: string;
  password: string;
}

export interface ExecutorConfig {
  engine: Engine;
  /** The operator's own account on every server. */
  operator: Account;
  /** The account replicas log in with at their source. */
  replication: Account;
  timeouts: Timeouts;
  /** How long a promoted replica may take to apply what it received. */
  applyTimeoutSeconds: number;
  /** Semi-synchronous replication is on in the group: a promoted replica waits for acknowledgements. */
  semiSync: boolean;
  /** How long fencing waits for running writes before it closes their connections. */
  lockWaitSeconds: number;
}

export interface Hooks {
  /** Removes the pod so that nothing can resurrect it as a writer (resolves once it is gone). */
  deletePod(pod: string): Promise<void>;
  /** Copies the member again from the primary (it holds transactions the primary lacks). */
  rebuild?(pod: string, primary: string): Promise<void>;
  /** Records durably that `pod` is the primary now: called right after its promotion, before the other
   *  replicas follow it. A failure ends the failover there (the next pass reverts to the recorded primary). */
  recordPrimary?(pod: string, reason: string): Promise<void>;
}

const address = (m: MemberEndpoint, account: Account): ServerAddress => ({
  host: m.host,
  port: m.port,
  ...account,
});

const endpoint = (members: MemberEndpoint[], pod: string): MemberEndpoint => {
  const found = members.find((m) => m.pod === pod);
  if (!found) throw new Error(`${pod} is not a member of the group`);
  return found;
};

/** One member's state; a server that does not answer within the timeouts is unreachable, not an error. */
export async function observeMember(
  m: MemberEndpoint,
  members: MemberEndpoint[],
  cfg: ExecutorConfig,
): Promise<MemberState> {
  const base: MemberState = {
    pod: m.pod,
    ordinal: m.ordinal,
    reachable: false,
    ready: m.ready,
    nodeReady: m.nodeReady,
    role: m.role,
  };
  if (!m.host) return base; // no address yet (a pod not scheduled or not started)
  let state;
  try {
    state = await withServer(address(m, cfg.operator), cfg.timeouts, (c) => readState(c, cfg.engine));
  } catch {
    return base;
  }
  const r = state.replica;
  const source = r
    ? members.find(
        (s) =>
          s.port === r.sourcePort && [s.host, s.replicationHost, ...(s.aliases ?? [])].includes(r.sourceHost),
      )
    : undefined;
  return {
    ...base,
    reachable: true,
    gtid: state.received,
    readOnly: state.readOnly,
    ...(state.readOnly ? {} : { semiSyncActive: state.semiSyncActive }),
    ...(r?.lagSeconds !== undefined && r.sqlRunning ? { lagSeconds: r.lagSeconds } : {}),
    ...(r ? { source: source?.pod ?? `${r.sourceHost}:${r.sourcePort}` } : {}),
  };
}

/**
 * Every member's state, the primary's last: a replica can only hold what the primary had written when the
 * replica was read, so reading the primary after them never makes a replica that is merely quick look as if it
 * held transactions the primary lacks (under writes, a primary read first is already behind its replicas).
 */
export async function observeGroup(
  members: MemberEndpoint[],
  cfg: ExecutorConfig,
  primary?: string,
): Promise<MemberState[]> {
  const others = await Promise.all(
    members.filter((m) => m.pod !== primary).map((m) => observeMember(m, members, cfg)),
  );
  const p = members.find((m) => m.pod === primary);
  const last = p ? await observeMember(p, members, cfg) : undefined;
  return members.map((m) => (m === p ? last! : others.find((o) => o.pod === m.pod)!));
}

export interface Step {
  step: string;
  pod: string;
  ms: number;
  error?: string;
}

async function timed(steps: Step[], step: string, pod: string, fn: () => Promise<unknown>): Promise<boolean> {
  const started = Date.now();
  try {
    await fn();
    steps.push({ step, pod, ms: Date.now() - started });
    return true;
  } catch (e) {
    steps.push({ step, pod, ms: Date.now() - started, error: (e as Error).message });
    return false;
  }
}

/**
 * Carries out a decision, in the order that never leaves two writable primaries: fence the old primary
 * (read_only, or, when it cannot be reached, deletion of its pod) before promoting. Replicas that fail to
 * follow are left to the next pass (they show as strays). Returns each step with its duration and error.
 */
export async function execute(
  decision: Decision,
  members: MemberEndpoint[],
  cfg: ExecutorConfig,
  hooks: Hooks,
): Promise<Step[]> {
  const steps: Step[] = [];
  const fenceOpts = {
    spareUsers: [cfg.operator.user, cfg.replication.user],
    lockWaitSeconds: cfg.lockWaitSeconds,
  };
  const fenceByReadOnly = (pod: string) =>
    withServer(address(endpoint(members, pod), cfg.operator), cfg.timeouts, (c) =>
      fence(c, cfg.engine, fenceOpts),
    );
  const follow = (pod: string, primary: string) => {
    const source = endpoint(members, primary);
    const host = source.replicationHost ?? source.host;
    return withServer(address(endpoint(members, pod), cfg.operator), cfg.timeouts, (c) =>
      repoint(c, cfg.engine, { ...address(source, cfg.replication), host }, { semiSync: cfg.semiSync }),
    );
  };
  const promoteOpts = { applyTimeoutSeconds: cfg.applyTimeoutSeconds, semiSync: cfg.semiSync };

  switch (decision.action) {
    case 'nothing':
    case 'wait':
      return steps;
    case 'failover': {
      const fenced =
        (decision.fence === 'read_only' &&
          (await timed(steps, 'fence read_only', decision.from, () => fenceByReadOnly(decision.from)))) ||
        (await timed(steps, 'fence delete-pod', decision.from, () => hooks.deletePod(decision.from)));
      if (!fenced) throw new Error(`could not fence ${decision.from}: no promotion (${steps.at(-1)!.error})`);
      if (decision.switchover) {
        // Planned: nothing the old primary wrote may be left behind (not even a commit that fell back to async).
        const caughtUp = await timed(steps, 'catch up', decision.to, async () => {
          const position = await withServer(
            address(endpoint(members, decision.from), cfg.operator),
            cfg.timeouts,
            (c) => writtenPosition(c, cfg.engine),
          );
          await withServer(address(endpoint(members, decision.to), cfg.operator), cfg.timeouts, (c) =>
            waitForTransactions(c, cfg.engine, position, cfg.applyTimeoutSeconds),
          );
        });
        if (!caughtUp) {
          // The old primary was fenced: open it again rather than leave the group without writes.
          await timed(steps, 'reopen', decision.from, () =>
            withServer(address(endpoint(members, decision.from), cfg.operator), cfg.timeouts, (c) =>
              openWrites(c, cfg.engine, { semiSync: cfg.semiSync }),
            ),
          );
          throw new Error(
            `switchover to ${decision.to} abandoned: ${steps.find((s) => s.step === 'catch up')!.error}`,
          );
        }
      }
      const promoted = await timed(steps, 'promote', decision.to, () =>
        withServer(address(endpoint(members, decision.to), cfg.operator), cfg.timeouts, (c) =>
          promote(c, cfg.engine, promoteOpts),
        ),
      );
      if (!promoted) throw new Error(`could not promote ${decision.to}: ${steps.at(-1)!.error}`);
      if (hooks.recordPrimary) {
        const recorded = await timed(steps, 'record', decision.to, () =>
          hooks.recordPrimary!(decision.to, decision.reason),
        );
        if (!recorded)
          throw new Error(`could not record ${decision.to} as the primary: ${steps.at(-1)!.error}`);
      }
      for (const pod of decision.repoint) await timed(steps, 'repoint', pod, () => follow(pod, decision.to));
      return steps;
    }
    case 'open':
      // A server that still follows another is promoted (applies what it received, forgets its source).
      await timed(steps, 'open', decision.pod, () =>
        withServer(address(endpoint(members, decision.pod), cfg.operator), cfg.timeouts, (c) =>
          decision.following
            ? promote(c, cfg.engine, promoteOpts)
            : openWrites(c, cfg.engine, { semiSync: cfg.semiSync }),
        ),
      );
      return steps;
    case 'rejoin-as-replica':
      if (await timed(steps, 'fence read_only', decision.pod, () => fenceByReadOnly(decision.pod))) {
        await timed(steps, 'repoint', decision.pod, () => follow(decision.pod, decision.primary));
      }
      return steps;
    case 'rebuild':
      // Fenced first: until it is copied again it must not take writes.
      await timed(steps, 'fence read_only', decision.pod, () => fenceByReadOnly(decision.pod));
      if (hooks.rebuild)
        await timed(steps, 'rebuild', decision.pod, () => hooks.rebuild!(decision.pod, decision.primary));
      return steps;
  }
}
