// Prometheus metrics of one app instance. Each instance has its own registry, so that tests and the benchmark
// can run several instances in one process and read each one's counts.
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export type CacheResult = 'hit' | 'miss' | 'error';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  /** target: primary | replica | shard-N (a shard's primary) | shard-N-replica (a shard's read URL) | shard-map. */
  dbQueries: Counter<'target'>;
  dbDuration: Histogram<'target'>;
  objectCache: Counter<'result'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: 'shop_http_requests_total',
      help: 'HTTP requests by method, route (the matched pattern) and status code',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    httpDuration: new Histogram({
      name: 'shop_http_request_duration_seconds',
      help: 'HTTP request duration by method, route and status code',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    dbQueries: new Counter({
      name: 'shop_db_queries_total',
      help: 'Database queries by target: primary, replica, shard-N, shard-N-replica, shard-map (the shard map, on the main primary)',
      labelNames: ['target'],
      registers,
    }),
    dbDuration: new Histogram({
      name: 'shop_db_query_duration_seconds',
      help: 'Database query duration by target',
      labelNames: ['target'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    objectCache: new Counter({
      name: 'shop_object_cache_requests_total',
      help: 'Object cache (product pages in Redis) lookups by result: hit, miss, error',
      labelNames: ['result'],
      registers,
    }),
  };
}

/** The sum of a counter over all its label values (for tests, the benchmark and logs). */
export async function counterTotal(counter: Counter<string>): Promise<number> {
  const { values } = await counter.get();
  return values.reduce((sum, v) => sum + v.value, 0);
}
