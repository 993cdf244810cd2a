// One request to an in-process shop instance, for the services tests.
import type { ShopApp } from '../src/app.js';

export interface Res {
  status: number;
  headers: Headers;
  /** The JSON body, or `{ text }` when the answer is not JSON. */
  body: Record<string, unknown>;
  /** How long the answer took. */
  ms: number;
}

/** Given up after 10 s, so a hung answer fails the test with a message, not a jest timeout. */
export async function call(
  app: ShopApp,
  path: string,
  init: { method?: string; body?: unknown; cookie?: string } = {},
): Promise<Res> {
  const started = performance.now();
  const res = await fetch(app.url + path, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(init.cookie ? { cookie: init.cookie } : {}),
    },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  const body = res.headers.get('content-type')?.startsWith('application/json')
    ? (JSON.parse(text) as Record<string, unknown>)
    : { text };
  return { status: res.status, headers: res.headers, body, ms: performance.now() - started };
}

/** The session cookie a response set, as a `Cookie` header value. */
export const cookieOf = (res: Res) => res.headers.get('set-cookie')?.split(';')[0];
