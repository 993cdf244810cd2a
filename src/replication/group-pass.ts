// One pass of the operator over one replication group: observe every member, decide, act. The caller keeps
// the group's memory between passes (since when the primary is down, the last failover) and records who the
// primary is: a failover calls hooks.recordPrimary right after the promotion, before anything else follows
// the new primary, so a pass killed at any point leaves a record the next pass can act on (see decide.ts).
import { type Decision, decideFailover, type FailoverSettings, type MemberState } from './decide.js';
import {
  execute,
  type ExecutorConfig,
  type Hooks,
  type MemberEndpoint,
  observeGroup,
  type Step,
} from './executor.js';

export interface GroupMemory {
  /** When the recorded primary was first seen down, without being seen healthy since (ms). */
  primaryDownSince?: number;
  /** When this operator last promoted a replica of the group (ms). */
  lastFailoverAt?: number;
}

export interface PassResult {
  observed: MemberState[];
  decision: Decision;
  steps: Step[];
  /** The primary after the pass (the promoted replica when a failover got as far as recording it). */
  primary: string;
}

export async function groupPass(
  members: MemberEndpoint[],
  primary: string,
  memory: GroupMemory,
  settings: FailoverSettings,
  cfg: ExecutorConfig,
  hooks: Hooks,
  now: () => number = Date.now,
): Promise<PassResult> {
  const observed = await observeGroup(members, cfg, primary);
  const at = now();
  const p = observed.find((m) => m.pod === primary);
  if (p && (!p.reachable || !p.nodeReady)) memory.primaryDownSince ??= at;
  else delete memory.primaryDownSince;
  const decision = decideFailover(
    {
      members: observed,
      primary,
      ...(memory.primaryDownSince !== undefined ? { primaryDownSince: memory.primaryDownSince } : {}),
      ...(memory.lastFailoverAt !== undefined ? { lastFailoverAt: memory.lastFailoverAt } : {}),
      ...(members.find((m) => m.pod === primary)?.demote ? { switchoverRequested: true } : {}),
    },
    settings,
    at,
  );
  let current = primary;
  const steps = await execute(decision, members, cfg, {
    ...hooks,
    recordPrimary: async (pod, reason) => {
      await hooks.recordPrimary?.(pod, reason);
      current = pod;
      memory.lastFailoverAt = now();
      delete memory.primaryDownSince;
    },
  });
  return { observed, decision, steps, primary: current };
}
