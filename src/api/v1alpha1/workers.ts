// Optional asynchronous workers (e.g. assembling cached objects), run from the web image.
import { z } from 'zod';
import { autoscaling } from './autoscaling.js';
import { env, image, resources } from './common.js';
import { podOptions } from './pod.js';
import { type Rule, withRules } from './rule.js';
import { requestRules } from './web.js';

const workersObject = z.strictObject({
  enabled: z.boolean().default(true).describe('Run the workers Deployment.'),
  image: image.optional().describe('Container image; absent uses web.image.'),
  command: z
    .array(z.string())
    .default([])
    .describe('Entrypoint of the worker containers (required when enabled).'),
  args: z.array(z.string()).optional().describe('Arguments to the command.'),
  replicas: z.int().min(0).max(1000).default(1).describe('Number of workers when autoscaling is off.'),
  resources: resources.prefault({ requests: { cpu: '100m', memory: '128Mi' } }),
  env,
  autoscaling: autoscaling('workers.autoscaling').optional(),
  pod: podOptions('workers').optional(),
});

type WorkersIn = z.output<typeof workersObject>;

export const workersRules: Rule<WorkersIn>[] = [
  {
    id: 'workers.command-required',
    at: 'workers',
    cel: '!self.enabled || size(self.command) > 0',
    message: 'command is required when workers are enabled',
    fieldPath: '.command',
    check: (w) => !w.enabled || w.command.length > 0,
  },
  ...requestRules<WorkersIn>('workers'),
];

export const workers = withRules(workersObject, workersRules).describe(
  'Background workers that share the binding (Redis and database) with the web tier.',
);

export type WorkersSpec = z.output<typeof workers>;
