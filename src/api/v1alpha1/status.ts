// The ScalableApp status: what the operator observed, in conditions and per-component summaries.
import { z } from 'zod';

export const CONDITION_TYPES = [
  'Ready',
  'Progressing',
  'Degraded',
  'WebReady',
  'CacheReady',
  'DatabaseReady',
  'ExposureReady',
  'WorkersReady',
  'Resharding',
] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

export const condition = z
  .strictObject({
    type: z.string().min(1).max(316).describe('Type of the condition, e.g. Ready or DatabaseReady.'),
    status: z.enum(['True', 'False', 'Unknown']).describe('True, False or Unknown.'),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
      .describe('CamelCase reason for the last transition, e.g. AllComponentsReady.'),
    message: z.string().max(32768).describe('Human readable details a user can act on.'),
    lastTransitionTime: z.string().describe('When the status last changed (RFC 3339).'),
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe('The .metadata.generation the condition was set from.'),
  })
  .describe('A metav1.Condition.');
export type Condition = z.output<typeof condition>;

const endpoint = z.string().describe('host:port clients connect to.');

const replicaCounts = z
  .strictObject({
    replicas: z.int().min(0).describe('Pods that exist.'),
    readyReplicas: z.int().min(0).describe('Pods that are ready.'),
    endpoint: endpoint.optional(),
  })
  .describe('Replica pods of a role.');

export const failoverRecord = z
  .strictObject({
    time: z.string().describe('When the replica was promoted (RFC 3339).'),
    from: z.string().describe('The pod that was primary.'),
    to: z.string().describe('The pod promoted in its place.'),
    reason: z.string().max(1024).describe('Why the operator failed over.'),
  })
  .describe('The last failover of a replication group (also a Warning event with reason Failover).');
export type FailoverRecord = z.output<typeof failoverRecord>;

const primaryPod = z.string().describe('The pod serving as primary now (roles move on failover).');

const dbGroup = z
  .strictObject({
    primary: z
      .strictObject({
        ready: z.boolean().describe('The primary is ready.'),
        endpoint: endpoint.optional(),
        pod: primaryPod.optional(),
        lastFailover: failoverRecord.optional(),
      })
      .describe('The primary (writes).'),
    replicas: replicaCounts.describe('The read replicas (reads).'),
  })
  .describe('A primary and its replicas.');

export const shardMapStatus = z
  .strictObject({
    state: z
      .enum(['idle', 'moving', 'waiting', 'failed'])
      .describe(
        'idle: the map routes to every shard of the spec; moving / waiting: rows of buckets are moving to added shards; failed: the last batch was rolled back (nothing lost) or a server was unreachable, and is tried again.',
      ),
    version: z.int().min(0).describe('The version of the shard map the apps read (+1 on every change).'),
    shards: z.int().min(0).describe('The shard count the map is at (idle) or moving to.'),
    movedBuckets: z.int().min(0).describe('Buckets moved so far by the running (or last) resharding.'),
    totalBuckets: z.int().min(0).describe('Buckets the running (or last) resharding moves (0 before any).'),
    maxBatchPauseMs: z
      .int()
      .min(0)
      .optional()
      .describe('The longest write pause of a batch of buckets in the running (or last) resharding (ms).'),
    message: z.string().max(4096).describe('What the mover did last or waits for.'),
  })
  .describe(
    'The shard map (bucket → group) the apps route by, and the resharding that moves rows to added shards.',
  );
export type ShardMapStatus = z.output<typeof shardMapStatus>;

export const status = z
  .strictObject({
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe('The .metadata.generation of the last spec the operator fully reconciled.'),
    conditions: z
      .array(condition)
      .optional()
      .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] })
      .describe('Ready, Progressing, Degraded and one condition per component.'),
    web: z
      .strictObject({
        replicas: z.int().min(0).describe('Web pods that exist (the scale subresource reads it).'),
        readyReplicas: z.int().min(0).describe('Web pods that are ready.'),
        desiredReplicas: z.int().min(0).describe('Web pods wanted now, by the spec or the autoscaler.'),
        selector: z.string().describe('Label selector of the web pods (the scale subresource reads it).'),
        ready: z.string().optional().describe('Ready and desired pods as "ready/desired", for kubectl get.'),
      })
      .optional()
      .describe('The web tier.'),
    cache: z
      .strictObject({
        readyReplicas: z.int().min(0).describe('Redis pods that are ready.'),
        endpoint: endpoint.optional(),
        ready: z.string().optional().describe('Ready and desired pods as "ready/desired", for kubectl get.'),
      })
      .optional()
      .describe('Redis, the session store and cache.'),
    database: dbGroup
      .extend({
        engine: z.string().optional().describe('The engine in use; the operator refuses to change it.'),
        ready: z
          .string()
          .optional()
          .describe('Ready and desired database pods (all primaries and replicas) as "ready/desired".'),
        shards: z
          .array(
            z
              .strictObject({
                index: z.int().min(0).describe('Shard number.'),
                ready: z.boolean().describe('The shard primary and its replicas are ready.'),
                writeEndpoint: endpoint.optional(),
                readEndpoint: endpoint.optional(),
                primaryPod: primaryPod.optional(),
                lastFailover: failoverRecord.optional(),
              })
              .describe('One shard.'),
          )
          .optional()
          .describe('Shard groups, in index order.'),
        shardMap: shardMapStatus.optional(),
      })
      .optional()
      .describe('The database.'),
    exposure: z
      .strictObject({
        mechanism: z.string().describe('What carries traffic and stickiness, e.g. "Ingress (nginx cookie)".'),
      })
      .optional()
      .describe('How the app is exposed.'),
    bindingSecretName: z.string().optional().describe('Secret with the connection settings the pods load.'),
    url: z.string().optional().describe('Where users reach the app.'),
  })
  .describe('Observed state of the application.');

export type ScalableAppStatus = z.output<typeof status>;
