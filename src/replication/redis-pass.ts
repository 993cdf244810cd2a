// One pass of the operator over the Redis group, the counterpart of group-pass.ts: observe, decide, act, and
// record the new primary once promoted. Redis replicas copy asynchronously, so there is no acknowledgement to
// keep: a monitor killed between the promotion and the record finds the recorded primary again at its next
// pass (a master beside it rejoins it; nothing was routed to the promoted one before the record).
import type { FailoverSettings } from './decide.js';
import type { Step } from './executor.js';
import type { GroupMemory } from './group-pass.js';
import {
  type RedisConfig,
  type RedisDecision,
  type RedisHooks,
  type RedisMemberEndpoint,
  type RedisMemberState,
  decideRedisFailover,
  executeRedis,
  observeRedisGroup,
} from './redis.js';

export interface RedisPassResult {
  observed: RedisMemberState[];
  decision: RedisDecision;
  steps: Step[];
  primary: string;
}

export async function redisGroupPass(
  members: RedisMemberEndpoint[],
  primary: string,
  memory: GroupMemory,
  settings: FailoverSettings,
  cfg: RedisConfig,
  hooks: RedisHooks & { recordPrimary?(pod: string, reason: string): Promise<void> },
  now: () => number = Date.now,
): Promise<RedisPassResult> {
  const observed = await observeRedisGroup(members, cfg);
  const at = now();
  const p = observed.find((m) => m.pod === primary);
  if (p && (!p.reachable || !p.nodeReady)) memory.primaryDownSince ??= at;
  else delete memory.primaryDownSince;
  const decision = decideRedisFailover(
    {
      members: observed,
      primary,
      ...(memory.primaryDownSince !== undefined ? { primaryDownSince: memory.primaryDownSince } : {}),
      ...(memory.lastFailoverAt !== undefined ? { lastFailoverAt: memory.lastFailoverAt } : {}),
    },
    settings,
    at,
  );
  const steps = await executeRedis(decision, members, cfg, hooks);
  let current = primary;
  if (decision.action === 'failover' && steps.some((s) => s.step === 'promote' && !s.error)) {
    await hooks.recordPrimary?.(decision.to, decision.reason);
    current = decision.to;
    memory.lastFailoverAt = now();
    delete memory.primaryDownSince;
  }
  return { observed, decision, steps, primary: current };
}
