// The web tier: identical, stateless clones behind the load balancer.
import { z } from 'zod';
import { autoscaling, type AutoscalingSpec } from './autoscaling.js';
import { env, image, resources } from './common.js';
import { podOptions } from './pod.js';
import { type Rule, withRules } from './rule.js';

const httpPath = z.string().regex(/^\//, { message: 'must be an absolute HTTP path starting with "/"' });

export const healthCheck = z
  .strictObject({
    livenessPath: httpPath.default('/healthz').describe('HTTP path of the liveness probe.'),
    readinessPath: httpPath
      .default('/readyz')
      .describe('HTTP path of the readiness probe; a pod gets traffic only while it answers 2xx/3xx.'),
    startupPath: httpPath
      .optional()
      .describe('HTTP path of a startup probe for slow starters; absent means no startup probe.'),
    periodSeconds: z.int().min(1).max(300).default(10).describe('Seconds between probes.'),
  })
  .describe('HTTP health checks of the web containers.');

const DEFAULT_RESOURCES = { requests: { cpu: '100m', memory: '128Mi' } };

const webObject = z.strictObject({
  image: image.describe('Container image of the web application, e.g. registry.example/shop:1.2.3.'),
  command: z
    .array(z.string())
    .max(64)
    .optional()
    .describe("Entrypoint of the web container; absent uses the image's ENTRYPOINT."),
  args: z
    .array(z.string())
    .max(256)
    .optional()
    .describe("Arguments to the entrypoint; absent uses the image's CMD."),
  port: z.int().min(1).max(65535).default(8080).describe('Port the application listens on.'),
  replicas: z
    .int()
    .min(0)
    .max(1000)
    .default(2)
    .describe(
      'Number of web pods when autoscaling is off (`kubectl scale sapp` sets it); ignored while an HPA runs.',
    ),
  resources: resources.prefault(DEFAULT_RESOURCES),
  env,
  healthCheck: healthCheck.prefault({}),
  autoscaling: autoscaling('web.autoscaling').optional(),
  pod: podOptions('web').optional(),
});

type WebSpecIn = z.output<typeof webObject>;

const requested = (w: { resources?: { requests?: Record<string, unknown> } }, name: string) =>
  w.resources?.requests?.[name] !== undefined;

const autoscalingOn = (a: AutoscalingSpec | undefined): a is AutoscalingSpec => a?.enabled === true;

/** Rules for any tier that has resources and optional autoscaling (web, workers). */
export const requestRules = <
  T extends { resources?: { requests?: Record<string, unknown> }; autoscaling?: AutoscalingSpec },
>(
  at: string,
): Rule<T>[] => [
  {
    id: `${at}.cpu-request-for-autoscaling`,
    at,
    cel: "!has(self.autoscaling) || !self.autoscaling.enabled || (has(self.resources) && has(self.resources.requests) && 'cpu' in self.resources.requests)",
    message:
      'resources.requests.cpu is required when autoscaling is enabled (the HPA measures CPU against it)',
    fieldPath: '.resources',
    check: (w) => !autoscalingOn(w.autoscaling) || requested(w, 'cpu'),
  },
  {
    id: `${at}.memory-request-for-memory-target`,
    at,
    cel: "!has(self.autoscaling) || !self.autoscaling.enabled || !has(self.autoscaling.targetMemoryUtilizationPercentage) || (has(self.resources) && has(self.resources.requests) && 'memory' in self.resources.requests)",
    message:
      'resources.requests.memory is required when autoscaling.targetMemoryUtilizationPercentage is set',
    fieldPath: '.resources',
    check: (w) =>
      !autoscalingOn(w.autoscaling) ||
      w.autoscaling.targetMemoryUtilizationPercentage === undefined ||
      requested(w, 'memory'),
  },
];

export const webRules = requestRules<WebSpecIn>('web');

export const web = withRules(webObject, webRules).describe(
  'The stateless web tier: a Deployment of identical pods that keep no local state.',
);

export type WebSpec = z.output<typeof web>;
