// Prometheus metrics, named as controller-runtime names them so existing dashboards apply.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();

  readonly reconcileTotal = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Total number of reconciliations per controller and result (success, error, requeue).',
    labelNames: ['controller', 'result'] as const,
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Total number of reconciliation errors per controller.',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  readonly reconcileTime = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Length of time per reconciliation per controller.',
    labelNames: ['controller'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly activeWorkers = new Gauge({
    name: 'controller_runtime_active_workers',
    help: 'Number of currently used workers per controller.',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'workqueue_depth',
    help: 'Current depth of the workqueue.',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });
  readonly queueAdds = new Counter({
    name: 'workqueue_adds_total',
    help: 'Total number of adds handled by the workqueue.',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });
  readonly queueRetries = new Counter({
    name: 'workqueue_retries_total',
    help: 'Total number of retries handled by the workqueue.',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });
  readonly queueLatency = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long in seconds an item stays in the workqueue before being requested.',
    labelNames: ['name'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60],
    registers: [this.registry],
  });
  readonly workDuration = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from the workqueue takes.',
    labelNames: ['name'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60],
    registers: [this.registry],
  });
  readonly failovers = new Counter({
    name: 'scalableapp_failovers_total',
    help: 'Replicas promoted in place of a failed primary, per kind of group (database) and result.',
    labelNames: ['tier', 'result'] as const,
    registers: [this.registry],
  });
  readonly promoteSeconds = new Histogram({
    name: 'scalableapp_failover_promote_seconds',
    help: 'From the decision to fail over to the new primary recorded: fencing, applying what it received, promoting.',
    labelNames: ['tier'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly semiSyncFallbacks = new Counter({
    name: 'scalableapp_semisync_fallbacks_total',
    help: 'Times a primary with replicas was seen committing without waiting for a replica (semi-sync fell back to async).',
    registers: [this.registry],
  });
  readonly bucketsMoved = new Counter({
    name: 'scalableapp_resharding_buckets_moved_total',
    help: 'Shard-map buckets whose rows were moved to another group (added shards).',
    registers: [this.registry],
  });
  readonly batchPauseSeconds = new Histogram({
    name: 'scalableapp_resharding_batch_write_pause_seconds',
    help: 'Per batch of buckets moved: how long writes to its buckets paused (from the map listing them as moving to the flip).',
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });
  readonly restRequests = new Counter({
    name: 'rest_client_requests_total',
    help: 'Number of HTTP requests to the API server, partitioned by status code and method.',
    labelNames: ['code', 'method'] as const,
    registers: [this.registry],
  });
  readonly apiRequests = new Histogram({
    name: 'scalableapp_api_request_duration_seconds',
    help: 'Requests to the API server and their latency, by verb (dry runs apart), resource (with its subresource) and status code.',
    labelNames: ['verb', 'resource', 'code'] as const,
    buckets: [0.01, 0.05, 0.25, 1, 5],
    registers: [this.registry],
  });
  readonly restLatency = new Histogram({
    name: 'rest_client_request_duration_seconds',
    help: 'Request latency in seconds to the API server, by verb.',
    labelNames: ['verb'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'leader_election_master_status',
    help: '1 while this process holds the leader lease.',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
