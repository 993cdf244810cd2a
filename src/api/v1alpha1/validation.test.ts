import { describe, expect, it } from '@jest/globals';
import { FIELD_CASES, RULE_CASES } from '../../../test/fixtures/rule-cases.js';
import { parseScalableApp } from './parse.js';
import { RULES, transitionViolations } from './rules.js';

const ruleById = new Map(RULES.map((r) => [r.id, r]));

describe('cross-field rules (zod side)', () => {
  it('every rule has at least one valid and one invalid case', () => {
    const uncovered = RULES.flatMap((rule) => {
      const cases = RULE_CASES.filter((c) => c.rule === rule.id);
      return [
        ...(cases.some((c) => !c.invalidAt) ? [] : [`${rule.id}: no valid case`]),
        ...(cases.some((c) => c.invalidAt) ? [] : [`${rule.id}: no invalid case`]),
      ];
    });
    expect(uncovered).toEqual([]);
    expect(RULE_CASES.filter((c) => !ruleById.has(c.rule)).map((c) => c.rule)).toEqual([]);
  });

  it.each(RULE_CASES.filter((c) => !c.old))('$name', ({ app, invalidAt, rule }) => {
    const result = parseScalableApp(app);
    if (!invalidAt) {
      expect(result.ok ? [] : result.errors).toEqual([]);
      return;
    }
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([{ path: invalidAt, message: ruleById.get(rule)!.message }]);
    expect(result.message).toBe(`${invalidAt}: ${ruleById.get(rule)!.message}`);
  });

  it.each(RULE_CASES.filter((c) => c.old))('$name (transition)', ({ app, old, invalidAt, rule }) => {
    const next = parseScalableApp(app);
    const prev = parseScalableApp(old);
    if (!next.ok || !prev.ok) throw new Error('transition fixtures must be valid on their own');
    const violations = transitionViolations(next.value.spec, prev.value.spec);
    expect(violations).toEqual(
      invalidAt ? [{ path: invalidAt, message: ruleById.get(rule)!.message, rule }] : [],
    );
  });
});

describe('single-field validation', () => {
  it.each(FIELD_CASES)('rejects $name, naming $invalidAt', ({ app, invalidAt }) => {
    const result = parseScalableApp(app);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => e.path)).toContain(invalidAt);
    expect(result.message).toContain(`${invalidAt}: `);
  });

  it('rejects unknown fields by name instead of dropping them', () => {
    const result = parseScalableApp({
      apiVersion: 'scalable.dev/v1alpha1',
      kind: 'ScalableApp',
      metadata: { name: 'x' },
      spec: { web: { image: 'a', replica: 3 } },
    });
    expect(result).toMatchObject({
      ok: false,
      errors: [{ path: 'spec.web.replica', message: 'unknown field' }],
    });
  });
});
