// A small HTTP client for the API server on top of a client-node KubeConfig: one connection pool, every
// request counted in metrics, writes paced by a token bucket. Errors become ApiError with the server's reason.
// A request the API server's priority and fairness turns away (429) is sent again after its Retry-After (at most
// MAX_429_RETRIES times, as client-go does): the server, not a client-side limit, decides how fast we may go.
import { KubeConfig } from '@kubernetes/client-node';
import { RequestContext, HttpMethod } from '@kubernetes/client-node';
import { fetch, type Dispatcher } from 'undici';
import { ApiError } from './errors.js';
import { requestKind } from './request-kind.js';

export type Verb = 'GET' | 'LIST' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

/** Where requests are counted: client-go's rest_client metrics (the runtime's Metrics has them). */
export interface RequestMetrics {
  restRequests: { inc(labels: { code: string; method: string }): void };
  restLatency: { observe(labels: { verb: string }, seconds: number): void };
  /** By verb (dry runs apart), resource and code: where the requests and their time go (request-kind.ts). */
  apiRequests?: { observe(labels: { verb: string; resource: string; code: string }, seconds: number): void };
}

/** Paces writes: `take` resolves when one more write may go (the runtime's TokenBucket is one). */
export interface WriteLimiter {
  take(): Promise<void>;
}

export interface KubeClientOptions {
  metrics?: RequestMetrics;
  writeLimiter?: WriteLimiter;
  /** Called for every request with its verb (tests count writes with it). */
  onRequest?: (verb: Verb, path: string, status: number) => void;
  timeoutMs?: number;
}

const WRITE_VERBS = new Set<Verb>(['POST', 'PUT', 'PATCH', 'DELETE']);
const MAX_429_RETRIES = 10;
/** Seconds to wait after a 429: its Retry-After (1 s when absent), never more than 10 s. */
const retryAfterMs = (header: string | null) => {
  const seconds = header === null || header.trim() === '' ? NaN : Number(header);
  return Math.min(10, Number.isFinite(seconds) && seconds >= 0 ? seconds : 1) * 1000;
};
const AUTH_REFRESH_MS = 60_000;

/** A 429: sent again after waitMs (the ApiError is its cause, thrown once the retries are spent). */
class TooManyRequests extends Error {
  constructor(
    readonly waitMs: number,
    override readonly cause: ApiError,
  ) {
    super(cause.message);
  }
}

export class KubeClient {
  private auth?: { headers: Record<string, string>; dispatcher?: Dispatcher; at: number };

  constructor(
    readonly kubeConfig: KubeConfig,
    private readonly opts: KubeClientOptions = {},
  ) {}

  get server(): string {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    return cluster.server;
  }

  async request<T>(verb: Verb, path: string, opts: RequestOptions = {}): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once<T>(verb, path, opts);
      } catch (err) {
        if (!(err instanceof TooManyRequests)) throw err;
        if (attempt >= MAX_429_RETRIES) throw err.cause;
        await new Promise((r) => setTimeout(r, err.waitMs));
      }
    }
  }

  private async once<T>(verb: Verb, path: string, opts: RequestOptions): Promise<T> {
    if (WRITE_VERBS.has(verb)) await this.opts.writeLimiter?.take();
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(opts.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const { headers, dispatcher } = await this.authentication();
    const method = verb === 'LIST' ? 'GET' : verb;
    const started = performance.now();
    let status = 0;
    try {
      const signal = AbortSignal.any([
        AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
        ...(opts.signal ? [opts.signal] : []),
      ]);
      const res = await fetch(url, {
        method,
        headers: {
          ...headers,
          Accept: 'application/json',
          ...(opts.body !== undefined ? { 'Content-Type': opts.contentType ?? 'application/json' } : {}),
        },
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        dispatcher,
        signal,
      });
      status = res.status;
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text ? (JSON.parse(text) as unknown) : undefined;
      } catch {
        // e.g. "404 page not found" for a kind the server does not serve
        parsed = res.status >= 400 ? { message: text.trim() } : undefined;
        if (res.status < 400) throw new Error(`${method} ${path}: response is not JSON`);
      }
      if (res.status >= 400) {
        const s = (parsed ?? {}) as { reason?: string; message?: string; details?: unknown };
        const error = new ApiError(
          res.status,
          s.reason ?? 'Unknown',
          s.message ?? `${method} ${path}: HTTP ${res.status}`,
          s.details,
        );
        if (res.status === 429)
          throw new TooManyRequests(retryAfterMs(res.headers.get('retry-after')), error);
        throw error;
      }
      return parsed as T;
    } catch (err) {
      if (err instanceof ApiError || err instanceof TooManyRequests) throw err;
      throw new Error(`${method} ${url.pathname}: ${(err as Error).message}`, { cause: err });
    } finally {
      const code = String(status || '<error>');
      const seconds = (performance.now() - started) / 1000;
      this.opts.metrics?.restRequests.inc({ code, method });
      this.opts.metrics?.restLatency.observe({ verb: verb }, seconds);
      const kind = requestKind(verb, path, opts.query?.dryRun !== undefined);
      this.opts.metrics?.apiRequests?.observe({ ...kind, code }, seconds);
      this.opts.onRequest?.(verb, path, status);
    }
  }

  /** Closes the connection pool (keep-alive connections would hold the process open). */
  async close(): Promise<void> {
    const dispatcher = this.auth?.dispatcher;
    this.auth = undefined;
    await dispatcher?.close();
  }

  /** Headers and TLS dispatcher from the kubeconfig, computed once and refreshed for expiring credentials. */
  private async authentication() {
    if (!this.auth || Date.now() - this.auth.at > AUTH_REFRESH_MS) {
      const ctx = new RequestContext(this.server, HttpMethod.GET);
      await this.kubeConfig.applySecurityAuthentication(ctx);
      // Keep one connection pool: client-node builds a new dispatcher per call.
      const dispatcher = this.auth?.dispatcher ?? (ctx.getDispatcher() as Dispatcher | undefined);
      this.auth = { headers: ctx.getHeaders(), dispatcher, at: Date.now() };
    }
    return this.auth;
  }
}

/** Loads the kubeconfig the usual way: KUBECONFIG, ~/.kube/config, or the in-cluster service account. */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}
