// The little HTTP toolkit the app needs on top of node:http: a router with `:param` patterns (the pattern is
// also the metrics label, so label values stay bounded), JSON and form bodies, cookies, and input checks.
import type { IncomingMessage } from 'node:http';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface Reply {
  status?: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface Context {
  req: IncomingMessage;
  url: URL;
  params: Record<string, string>;
  /** Response headers a handler adds (e.g. Set-Cookie), merged into the reply. */
  headers: Record<string, string>;
}

export type Handler = (ctx: Context) => Promise<Reply>;

interface Route {
  method: string;
  pattern: string;
  regex: RegExp;
  keys: string[];
  handler: Handler;
}

export type Match =
  | { kind: 'found'; route: string; handler: Handler; params: Record<string, string> }
  | { kind: 'method-not-allowed'; route: string; allow: string[] }
  | { kind: 'not-found' };

export class Router {
  private readonly routes: Route[] = [];

  on(method: string, pattern: string, handler: Handler): this {
    const keys: string[] = [];
    const source = pattern
      .split('/')
      .map((part) => {
        if (!part.startsWith(':')) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        keys.push(part.slice(1));
        return '([^/]+)';
      })
      .join('/');
    this.routes.push({ method, pattern, regex: new RegExp(`^${source}/?$`), keys, handler });
    return this;
  }

  match(method: string, path: string): Match {
    const allow: string[] = [];
    let pattern = '';
    for (const route of this.routes) {
      const m = route.regex.exec(path);
      if (!m) continue;
      const wanted = method === 'HEAD' ? 'GET' : method;
      if (route.method !== wanted) {
        allow.push(route.method);
        pattern = route.pattern;
        continue;
      }
      const params = Object.fromEntries(route.keys.map((k, i) => [k, safeDecode(m[i + 1]!)]));
      return { kind: 'found', route: route.pattern, handler: route.handler, params };
    }
    return allow.length > 0 ? { kind: 'method-not-allowed', route: pattern, allow } : { kind: 'not-found' };
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

const MAX_BODY_BYTES = 16 * 1024;

/** Reads a JSON or form-encoded body (at most 16 KiB) into a plain object; an empty body is `{}`. */
export async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES)
      throw new HttpError(413, `request body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(text));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'request body must be JSON (or application/x-www-form-urlencoded)');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 1) continue;
    const name = part.slice(0, eq).trim();
    if (name && !(name in cookies)) cookies[name] = part.slice(eq + 1).trim();
  }
  return cookies;
}

/** An integer in [min, max] from a number or a decimal string; the error names the field. */
export function intField(value: unknown, field: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new HttpError(400, `${field} must be an integer between ${min} and ${max}`);
  }
  return n;
}

export function textField(value: unknown, field: string, maxLength: number): string {
  if (typeof value !== 'string' || !value.trim()) throw new HttpError(400, `${field} is required`);
  if (value.length > maxLength) throw new HttpError(400, `${field} must be at most ${maxLength} characters`);
  return value.trim();
}

/** A path id (`/products/:id`): anything that is not a positive integer is simply not found. */
export function pathId(value: string | undefined, what: string): number {
  const n = value && /^\d{1,15}$/.test(value) ? Number(value) : 0;
  if (n < 1) throw new HttpError(404, `${what} not found`);
  return n;
}

/**
 * Whether a client asks for HTML before JSON (a browser's `Accept: text/html,…,*\/*;q=0.8`): text/html is listed
 * with a quality above zero and above application/json's (a tie is JSON). No Accept, `*\/*` (curl, k6, fetch) and
 * `application/json` are JSON clients.
 */
export function prefersHtml(accept: string | undefined): boolean {
  const quality = new Map<string, number>();
  for (const part of (accept ?? '').split(',')) {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (!type) continue;
    const q = params.find((p) => p.startsWith('q='));
    const value = q === undefined ? 1 : Number(q.slice(2));
    quality.set(type, Number.isFinite(value) ? value : 0);
  }
  const html = quality.get('text/html') ?? 0;
  return html > 0 && html > (quality.get('application/json') ?? 0);
}
