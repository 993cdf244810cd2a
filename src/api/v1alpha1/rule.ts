// A cross-field rule, written once and enforced twice: as a zod refinement (controller, `render`) and as a CEL
// `x-kubernetes-validations` entry in the CRD (API server admission). Tests keep the two in agreement.
import type { z } from 'zod';

export interface Rule<T> {
  /** Stable identifier, used by tests and docs. */
  id: string;
  /** Where the rule sits, as a dotted path below `spec` ('' for spec itself). */
  at: string;
  /** The CEL expression; `self` is the object at `at` (and `oldSelf` its previous value in transition rules). */
  cel: string;
  /** The message users see, from either enforcement. */
  message: string;
  /** The field the message is about, relative to `at` (CEL's fieldPath), e.g. '.minReplicas'. */
  fieldPath?: string;
  /** True when the rule compares with the previous object (`oldSelf`): zod cannot see it, the controller checks it against status. */
  transition?: boolean;
  /** Returns true when `self` satisfies the rule. For transition rules, `old` is the previous value. */
  check(self: T, old?: T): boolean;
}

/** Attaches the (non-transition) rules to a zod schema as refinements, each issue at the rule's field path. */
export function withRules<S extends z.ZodType>(schema: S, rules: readonly Rule<z.output<S>>[]) {
  return schema.superRefine((value, ctx) => {
    for (const rule of rules) {
      if (rule.transition || rule.check(value)) continue;
      ctx.addIssue({
        code: 'custom',
        message: rule.message,
        path: rule.fieldPath ? rule.fieldPath.replace(/^\./, '').split('.') : [],
        params: { rule: rule.id },
      });
    }
  });
}
