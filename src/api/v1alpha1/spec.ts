// The ScalableApp spec: one object describing the whole application.
import { z } from 'zod';
import { cache } from './cache.js';
import { database } from './database.js';
import { exposure } from './exposure.js';
import { web } from './web.js';
import { workers } from './workers.js';

export const spec = z
  .strictObject({
    paused: z
      .boolean()
      .default(false)
      .describe('When true the operator observes and reports status but changes nothing.'),
    web,
    exposure: exposure.prefault({}),
    cache: cache.optional(),
    database: database.optional(),
    workers: workers.optional(),
  })
  .describe(
    'Desired state of a scalable web application: web tier, load balancing, cache, database and workers. Absent components are not created.',
  );

export type ScalableAppSpec = z.output<typeof spec>;
/** The spec as users write it, before defaults. */
export type ScalableAppSpecInput = z.input<typeof spec>;
