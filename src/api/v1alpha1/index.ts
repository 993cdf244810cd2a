// The ScalableApp v1alpha1 API: identity, schemas and types.
import { z } from 'zod';
import { spec } from './spec.js';
import { status } from './status.js';

export const GROUP = 'scalable.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'ScalableApp';
export const PLURAL = 'scalableapps';
export const SINGULAR = 'scalableapp';
export const SHORT_NAMES = ['sapp'];

export const metadata = z
  .object({
    name: z.string().optional(),
    namespace: z.string().optional(),
    uid: z.string().optional(),
    generation: z.int().optional(),
    resourceVersion: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    deletionTimestamp: z.unknown().optional(),
    finalizers: z.array(z.string()).optional(),
  })
  .loose();

export const scalableApp = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(KIND),
  metadata,
  spec,
  status: status.optional(),
});

export type ScalableApp = z.output<typeof scalableApp>;
export type ScalableAppInput = z.input<typeof scalableApp>;

export * from './spec.js';
export * from './status.js';
export type { WebSpec } from './web.js';
export type { ExposureSpec } from './exposure.js';
export type { CacheSpec } from './cache.js';
export type { DatabaseSpec, Engine } from './database.js';
export { DEFAULT_IMAGES, ENGINES, MAX_SHARDS } from './database.js';
export type { WorkersSpec } from './workers.js';
export type { AutoscalingSpec } from './autoscaling.js';
export type { PodOptions } from './pod.js';
export { OPERATOR_LABELS, OPERATOR_PREFIX } from './pod.js';
