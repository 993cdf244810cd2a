import { describe, expect, it } from '@jest/globals';
import type { Condition } from '../api/v1alpha1/index.js';
import { type ConditionInput, mergeConditions } from './conditions.js';

const NOW = new Date('2026-01-02T03:04:05.678Z');
const EARLIER = '2026-01-01T00:00:00Z';

const previous = (status: Condition['status'], extra: Partial<Condition> = {}): Condition => ({
  type: 'Ready',
  status,
  reason: 'AllComponentsReady',
  message: 'every enabled component is serving',
  lastTransitionTime: EARLIER,
  observedGeneration: 1,
  ...extra,
});

const ready = (status: ConditionInput['status'], reason = 'AllComponentsReady'): ConditionInput => ({
  type: 'Ready',
  status,
  reason,
  message: `status ${status}`,
});

describe('mergeConditions', () => {
  it.each([
    {
      name: 'a condition seen for the first time transitions now, in whole seconds as metav1.Time has it',
      before: undefined,
      next: [ready('True')],
      generation: 3,
      want: [{ ...ready('True'), lastTransitionTime: '2026-01-02T03:04:05Z', observedGeneration: 3 }],
    },
    {
      name: 'the same status keeps its transition time even when reason and message change',
      before: [previous('False')],
      next: [ready('False', 'ComponentsNotReady')],
      generation: 2,
      want: [{ ...ready('False', 'ComponentsNotReady'), lastTransitionTime: EARLIER, observedGeneration: 2 }],
    },
    {
      name: 'a flipped status transitions now',
      before: [previous('False')],
      next: [ready('True')],
      generation: 2,
      want: [{ ...ready('True'), lastTransitionTime: '2026-01-02T03:04:05Z', observedGeneration: 2 }],
    },
    {
      name: 'Unknown to False is a transition too',
      before: [previous('Unknown')],
      next: [ready('False')],
      generation: 2,
      want: [{ ...ready('False'), lastTransitionTime: '2026-01-02T03:04:05Z', observedGeneration: 2 }],
    },
    {
      name: 'a type no longer reported is dropped (a component that was switched off)',
      before: [previous('True'), previous('True', { type: 'CacheReady' })],
      next: [ready('True')],
      generation: 2,
      want: [{ ...ready('True'), lastTransitionTime: EARLIER, observedGeneration: 2 }],
    },
    {
      name: 'without a generation, observedGeneration is left out',
      before: undefined,
      next: [ready('True')],
      generation: undefined,
      want: [{ ...ready('True'), lastTransitionTime: '2026-01-02T03:04:05Z' }],
    },
  ])('$name', ({ before, next, generation, want }) => {
    expect(mergeConditions(before, next, generation, NOW)).toEqual(want);
  });

  it('keeps the order of the new conditions, not of the previous ones', () => {
    const merged = mergeConditions(
      [previous('True', { type: 'Degraded' }), previous('True')],
      [ready('True'), { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '' }],
      1,
      NOW,
    );
    expect(merged.map((c) => c.type)).toEqual(['Ready', 'Degraded']);
  });
});
