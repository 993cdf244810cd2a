// A bounded load generator for the e2e specs (undici, no extra package): "shoppers" that each keep one session
// (a cookie jar), know what their cart must hold, and remember which pod served them (X-Served-By). Every run
// stops by itself: at most `maxRequests` requests, at most `maxSeconds` seconds, at most `rps` requests per
// second over all shoppers. The targets are the cluster's own addresses only (a Service's ClusterIP on the local
// node, the kind ingress on 127.0.0.1); a shopper may bind its own source address so that ClientIP affinity sees
// distinct clients.
import { Client } from 'undici';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Target {
  /** http://<ClusterIP>:<port> (local node) or http://127.0.0.1:<port> (kind ingress). */
  origin: string;
  /** Host header (name-based Ingress); default: the origin's host. */
  host?: string;
}

export interface Reply {
  status: number;
  body: unknown;
  pod: string | undefined;
  ms: number;
  /** The shop's X-Cache header on product pages: hit, miss or bypass. */
  cache?: string | undefined;
}

export interface Failure {
  /** Milliseconds since the epoch. */
  t: number;
  route: string;
  shopper: number;
  status: number;
  error: string;
}

/** A cart as productId → quantity. */
export type Cart = Map<number, number>;

export const cartOf = (view: unknown): Cart => {
  const items = (view as { items?: { productId: number; quantity: number }[] } | undefined)?.items ?? [];
  return new Map(items.map((i) => [i.productId, i.quantity]));
};

export const sameCart = (a: Cart, b: Cart) =>
  a.size === b.size && [...b].every(([id, quantity]) => a.get(id) === quantity);

export const PRODUCTS = 24; // the shop's seeded catalog

export class Shopper {
  readonly cookies = new Map<string, string>();
  /** What the cart must hold. */
  readonly cart: Cart = new Map();
  /** Pods in the order they served this shopper (a new entry only when the pod changes). */
  readonly podHistory: { t: number; pod: string }[] = [];
  switches = 0;
  requests = 0;
  /** Cart answers that did not match `cart`. */
  lostCarts = 0;
  private readonly client: Client;

  constructor(
    readonly id: number,
    readonly customer: number,
    private readonly target: Target,
    readonly localAddress?: string,
  ) {
    this.client = new Client(target.origin, {
      // A top-level option: undici ignores localAddress inside `connect`.
      ...(localAddress ? { localAddress } : {}),
      connect: { timeout: 5_000 },
      keepAliveTimeout: 30_000,
      headersTimeout: 15_000,
      bodyTimeout: 15_000,
    });
  }

  /** The same customer and session (cookies, expected cart) against another target (a re-created Service). */
  moveTo(target: Target, localAddress = this.localAddress): Shopper {
    const s = new Shopper(this.id, this.customer, target, localAddress);
    for (const [k, v] of this.cookies) s.cookies.set(k, v);
    for (const [k, v] of this.cart) s.cart.set(k, v);
    return s;
  }

  get pod(): string | undefined {
    return this.podHistory.at(-1)?.pod;
  }

  /** One request; never throws for HTTP statuses (a network error throws). */
  async request(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (this.target.host) headers.host = this.target.host;
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body !== undefined) headers['content-type'] = 'application/json';
    const started = performance.now();
    const res = await this.client.request({
      method,
      path,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.body.text();
    const ms = performance.now() - started;
    this.requests++;
    const setCookie = res.headers['set-cookie'];
    for (const c of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const pair = c.split(';', 1)[0]!;
      const eq = pair.indexOf('=');
      if (eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    const served = res.headers['x-served-by'];
    const pod = Array.isArray(served) ? served[0] : served;
    if (pod && pod !== this.pod) {
      if (this.pod !== undefined) this.switches++;
      this.podHistory.push({ t: Date.now(), pod });
    }
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON (metrics, errors from a proxy)
    }
    const cache = res.headers['x-cache'];
    return { status: res.statusCode, body: parsed, pod, ms, cache: Array.isArray(cache) ? cache[0] : cache };
  }

  /** Adds one of a product to the cart and checks the answer holds exactly the expected cart. */
  async addToCart(productId: number): Promise<Reply> {
    const reply = await this.request('POST', '/cart', { productId, quantity: 1, customer: this.customer });
    if (reply.status === 200) {
      this.cart.set(productId, (this.cart.get(productId) ?? 0) + 1);
      if (!sameCart(cartOf(reply.body), this.cart)) this.lostCarts++;
    }
    return reply;
  }

  /** Reads the cart; true when it holds exactly what it must. */
  async checkCart(): Promise<{ reply: Reply; intact: boolean }> {
    const reply = await this.request('GET', '/cart');
    const intact = reply.status === 200 && sameCart(cartOf(reply.body), this.cart);
    if (reply.status === 200 && !intact) this.lostCarts++;
    return { reply, intact };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/**
 * The bounds of a load, shared by every wave of shoppers that runs under it: at most `maxRequests` requests,
 * at most `rps` per second (a cap, not a promise), nothing after `deadline`.
 */
export class Budget {
  issued = 0;
  readonly deadline: number;
  private nextSlot = performance.now();
  private readonly interval: number;

  constructor(
    readonly maxRequests: number,
    readonly maxSeconds: number,
    readonly rps: number,
  ) {
    this.deadline = Date.now() + maxSeconds * 1000;
    this.interval = 1000 / rps;
  }

  get exhausted(): boolean {
    return this.issued >= this.maxRequests || Date.now() >= this.deadline;
  }

  /** Waits for the next request's slot; false when the budget is spent. */
  async take(): Promise<boolean> {
    if (this.exhausted) return false;
    this.issued++;
    const now = performance.now();
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + this.interval;
    if (slot > now) await sleep(slot - now);
    return Date.now() < this.deadline;
  }
}

export interface LoadOptions {
  shoppers: Shopper[];
  budget: Budget;
  /** Checked before every request: true ends this wave early. */
  stop?: () => boolean;
}

export interface LoadResult {
  requests: number;
  failures: Failure[];
  seconds: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  /** Requests per route. */
  routes: Record<string, number>;
  /** Requests per serving pod. */
  pods: Record<string, number>;
  startedAt: number;
  endedAt: number;
  latencies: number[];
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * Runs the shoppers concurrently. Each picks its next step from a mix that looks like browsing: product pages
 * (cached objects, Redis), the catalog (a replica), /whoami, adding to the cart and checking it (the session
 * in Redis). Orders are not part of the mix: they take stock and are placed by the spec itself.
 */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const startedAt = Date.now();
  const latencies: number[] = [];
  const failures: Failure[] = [];
  const routes: Record<string, number> = {};
  const pods: Record<string, number> = {};

  async function step(s: Shopper): Promise<void> {
    const r = Math.random();
    const product = 1 + Math.floor(Math.random() * PRODUCTS);
    let route: string;
    let reply: Reply;
    try {
      if (r < 0.5) {
        route = 'product';
        reply = await s.request('GET', `/products/${product}`);
      } else if (r < 0.65) {
        route = 'catalog';
        reply = await s.request('GET', '/');
      } else if (r < 0.8) {
        route = 'whoami';
        reply = await s.request('GET', '/whoami');
      } else if (r < 0.9) {
        route = 'add-to-cart';
        reply = await s.addToCart(product);
      } else {
        route = 'cart';
        reply = (await s.checkCart()).reply;
      }
    } catch (err) {
      failures.push({ t: Date.now(), route: 'network', shopper: s.id, status: 0, error: String(err) });
      return;
    }
    routes[route] = (routes[route] ?? 0) + 1;
    if (reply.pod) pods[reply.pod] = (pods[reply.pod] ?? 0) + 1;
    latencies.push(reply.ms);
    if (reply.status >= 400) {
      failures.push({
        t: Date.now(),
        route,
        shopper: s.id,
        status: reply.status,
        error: (typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body)).slice(0, 200),
      });
    }
  }

  async function loop(s: Shopper): Promise<void> {
    while (!(opts.stop?.() ?? false) && (await opts.budget.take())) await step(s);
  }

  await Promise.all(opts.shoppers.map(loop));
  return summarize(latencies, failures, routes, pods, startedAt, Date.now());
}

function summarize(
  latencies: number[],
  failures: Failure[],
  routes: Record<string, number>,
  pods: Record<string, number>,
  startedAt: number,
  endedAt: number,
): LoadResult {
  const seconds = (endedAt - startedAt) / 1000;
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    requests: latencies.length + failures.filter((f) => f.status === 0).length,
    failures,
    seconds,
    rps: latencies.length / seconds,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    routes,
    pods,
    startedAt,
    endedAt,
    latencies,
  };
}

/** Two waves that ran under one budget, as one result. */
export function mergeResults(a: LoadResult, b: LoadResult): LoadResult {
  const add = (x: Record<string, number>, y: Record<string, number>) => {
    const out = { ...x };
    for (const [k, v] of Object.entries(y)) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  return summarize(
    [...a.latencies, ...b.latencies],
    [...a.failures, ...b.failures].sort((x, y) => x.t - y.t),
    add(a.routes, b.routes),
    add(a.pods, b.pods),
    Math.min(a.startedAt, b.startedAt),
    Math.max(a.endedAt, b.endedAt),
  );
}
