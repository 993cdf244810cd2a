// Every cross-field rule of the API in one list: the CRD generator turns them into CEL, tests check both sides.
import { autoscalingRules } from './autoscaling.js';
import { databaseRules, shardsRules } from './database.js';
import { exposureRules } from './exposure.js';
import { podRules } from './pod.js';
import type { Rule } from './rule.js';
import type { ScalableAppSpec } from './spec.js';
import { webRules } from './web.js';
import { workersRules } from './workers.js';

export const RULES: readonly Rule<never>[] = [
  ...autoscalingRules('web.autoscaling'),
  ...webRules,
  ...exposureRules,
  ...shardsRules,
  ...databaseRules,
  ...autoscalingRules('workers.autoscaling'),
  ...workersRules,
  ...['web', 'workers', 'cache', 'database'].flatMap((tier) => podRules(`${tier}.pod`)),
] as Rule<never>[];

const at = (obj: unknown, path: string): unknown =>
  path === ''
    ? obj
    : path
        .split('.')
        .reduce<unknown>(
          (o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined),
          obj,
        );

export interface Violation {
  path: string;
  message: string;
  rule: string;
}

/**
 * Checks the transition rules (the ones CEL evaluates with `oldSelf`) between a previous spec and the new one.
 * A rule applies only when both old and new values exist at its path, as in Kubernetes.
 */
export function transitionViolations(
  next: ScalableAppSpec,
  previous: Partial<Record<string, unknown>> | undefined,
): Violation[] {
  if (!previous) return [];
  const out: Violation[] = [];
  for (const rule of RULES as readonly Rule<unknown>[]) {
    if (!rule.transition) continue;
    const self = at(next, rule.at);
    const old = at(previous, rule.at);
    if (self === undefined || old === undefined) continue;
    if (!rule.check(self, old)) {
      out.push({ path: `spec.${rule.at}${rule.fieldPath ?? ''}`, message: rule.message, rule: rule.id });
    }
  }
  return out;
}
