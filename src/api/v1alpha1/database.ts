// MySQL or MariaDB: a primary with read replicas, and optional shards of the same shape.
import { z } from 'zod';
import { resources, storage } from './common.js';
import { podOptions } from './pod.js';
import { type Rule, withRules } from './rule.js';

export const ENGINES = ['mysql', 'mariadb'] as const;
export const DEFAULT_IMAGES: Record<(typeof ENGINES)[number], string> = {
  mysql: 'mysql:8.4',
  mariadb: 'mariadb:11.4',
};
export const MAX_SHARDS = 64;

const shardsObject = z.strictObject({
  count: z
    .int()
    .min(0)
    .max(MAX_SHARDS)
    .default(0)
    .describe(
      'Number of shards, each its own primary with replicas; 0 means unsharded. May grow, never shrink.',
    ),
  replicasPerShard: z.int().min(0).max(10).default(1).describe('Read replicas of each shard primary.'),
  moveBatchBuckets: z
    .int()
    .min(1)
    .max(1024)
    .default(32)
    .describe(
      'Buckets (of 1024) moved together when a higher count moves data to new shards: writes to a batch pause while its rows are copied, about a second for a batch of this size.',
    ),
});

type ShardsIn = z.output<typeof shardsObject>;

export const shardsRules: Rule<ShardsIn>[] = [
  {
    id: 'database.shards.count-no-decrease',
    at: 'database.shards',
    cel: 'self.count >= oldSelf.count',
    message: 'shards.count may not decrease: removing a shard would drop its data',
    fieldPath: '.count',
    transition: true,
    check: (self, old) => old === undefined || self.count >= old.count,
  },
];

const failoverObject = z
  .strictObject({
    unreachableSeconds: z
      .int()
      .min(0)
      .max(3600)
      .default(10)
      .describe(
        'How long a primary may stay unreachable before the operator promotes the most advanced replica (a crashed server that its container restarts in place is usually back sooner, and keeps its pod); 0 turns automatic failover off (the operator still opens a primary that restarted, and fences a server that takes writes but is not the primary).',
      ),
    minSecondsBetweenFailovers: z
      .int()
      .min(0)
      .max(86400)
      .default(60)
      .describe(
        'No automatic failover of a group sooner than this after its last one (damps a flapping primary).',
      ),
  })
  .describe('Automatic failover of each replication group (the main one and every shard).');

const databaseObject = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe('Run the database; false removes its pods (volumes follow deletionPolicy).'),
  engine: z
    .enum(ENGINES)
    .default('mysql')
    .describe('mysql (default image mysql:8.4) or mariadb (default image mariadb:11.4). Immutable once set.'),
  image: z
    .string()
    .max(512)
    .regex(/^\S*$/, { message: 'must be a container image reference without spaces' })
    .default('')
    .describe('Container image override; empty uses the engine default.'),
  databaseName: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, {
      message: 'must be a MySQL identifier: letters, digits and "_", not starting with a digit, at most 64',
    })
    .default('app')
    .describe('Schema created for the application; the app user gets all privileges on it.'),
  replicas: z.int().min(0).max(10).default(2).describe('Read replicas of the primary.'),
  shards: withRules(shardsObject, shardsRules)
    .prefault({})
    .describe('Horizontal partitioning: shard groups and the bucket map published in the binding.'),
  failover: failoverObject.prefault({}),
  storage: storage('10Gi').prefault({}),
  resources: resources.optional(),
  pod: podOptions('database').optional(),
  deletionPolicy: z
    .enum(['Retain', 'Delete'])
    .default('Retain')
    .describe(
      'What happens to the data volumes and credentials when the app (or the database) is deleted: Retain keeps them, Delete removes them.',
    ),
});

type DatabaseIn = z.output<typeof databaseObject>;

export const databaseRules: Rule<DatabaseIn>[] = [
  {
    id: 'database.engine-immutable',
    at: 'database',
    cel: 'self.engine == oldSelf.engine',
    message: 'engine is immutable: data files of one engine cannot be opened by the other',
    fieldPath: '.engine',
    transition: true,
    check: (self, old) => old === undefined || self.engine === old.engine,
  },
];

export const database = withRules(databaseObject, databaseRules).describe(
  'The relational database: writes go to the primary, reads to the replicas, and shards partition the data.',
);

export type DatabaseSpec = z.output<typeof database>;
export type Engine = (typeof ENGINES)[number];
