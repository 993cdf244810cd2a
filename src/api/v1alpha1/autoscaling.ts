// Autoscaling settings shared by the web tier and the workers: one HorizontalPodAutoscaler each.
import { z } from 'zod';
import { autoscalingBehavior } from './common.js';
import { type Rule, withRules } from './rule.js';

const autoscalingObject = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe('Create a HorizontalPodAutoscaler; the HPA then owns the replica count.'),
  minReplicas: z.int().min(1).max(1000).default(2).describe('Fewest replicas the autoscaler keeps.'),
  maxReplicas: z.int().min(1).max(1000).default(10).describe('Most replicas the autoscaler may create.'),
  targetCPUUtilizationPercentage: z
    .int()
    .min(1)
    .max(1000)
    .default(70)
    .describe('Average CPU use, as a percentage of the CPU request, that the autoscaler aims for.'),
  targetMemoryUtilizationPercentage: z
    .int()
    .min(1)
    .max(1000)
    .optional()
    .describe(
      'Average memory use, as a percentage of the memory request; absent means memory is not a target.',
    ),
  behavior: autoscalingBehavior.optional(),
});

export type AutoscalingSpec = z.output<typeof autoscalingObject>;

export const autoscalingRules = (at: string): Rule<AutoscalingSpec>[] => [
  {
    id: `${at}.min-le-max`,
    at,
    cel: 'self.minReplicas <= self.maxReplicas',
    message: 'minReplicas must be less than or equal to maxReplicas',
    fieldPath: '.minReplicas',
    check: (a) => a.minReplicas <= a.maxReplicas,
  },
];

export const autoscaling = (at: string) =>
  withRules(autoscalingObject, autoscalingRules(at)).describe(
    'Horizontal autoscaling on load. When enabled, replicas is left to the HPA and never fought over.',
  );
