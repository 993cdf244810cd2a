// Redis: the central session store and object cache.
import { z } from 'zod';
import { image, resources, storage } from './common.js';
import { podOptions } from './pod.js';

export const EVICTION_POLICIES = [
  'noeviction',
  'allkeys-lru',
  'allkeys-lfu',
  'allkeys-random',
  'volatile-lru',
  'volatile-lfu',
  'volatile-random',
  'volatile-ttl',
] as const;

export const cache = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe('Run Redis; false removes it. Its volume follows database.deletionPolicy.'),
    image: image.default('redis:7.4').describe('Redis container image.'),
    maxMemory: z
      .string()
      .regex(/^[1-9][0-9]*([kKmMgG][bB]?)?$/, { message: 'must be a Redis memory size such as 256mb or 1gb' })
      .default('256mb')
      .describe('Redis maxmemory; past it, keys are evicted per evictionPolicy.'),
    evictionPolicy: z
      .enum(EVICTION_POLICIES)
      .default('allkeys-lru')
      .describe('Redis maxmemory-policy: what to evict when memory is full.'),
    persistence: z
      .enum(['none', 'rdb', 'aof'])
      .default('aof')
      .describe(
        'none: memory only; rdb: periodic snapshots; aof: append-only file with appendfsync everysec (at most about one second of writes lost on a crash).',
      ),
    replicas: z
      .int()
      .min(0)
      .max(5)
      .default(0)
      .describe(
        'Redis replicas beside the primary; 0: a single Redis. Replicas copy the primary asynchronously; when the primary fails, the operator promotes the replica with the most data and the <app>-cache Service follows it. A failover loses the writes the primary acknowledged but had not yet sent to that replica (usually none: the stream is milliseconds behind), and, after a network partition, what clients still connected to the old primary wrote until the operator made it a replica. Keep persistence aof: a primary whose container restarts in place reloads its data, and its replicas copy what it reloaded (without persistence, an empty data set).',
      ),
    storage: storage('1Gi').prefault({}),
    resources: resources.optional(),
    pod: podOptions('cache').optional(),
  })
  .describe('Redis for sessions and cached objects.');

export type CacheSpec = z.output<typeof cache>;
