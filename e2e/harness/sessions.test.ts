import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Shopper, type Target } from './load.js';
import { browse, freshSessionsReach } from './sessions.js';

/** A shop on 127.0.0.1 that keeps one cart, answers /whoami with `whoami` and names pods in turn. */
function fakeShop(whoami: number, pods: string[]) {
  const items = new Map<number, number>();
  const seen: string[] = [];
  let next = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}`);
      res.setHeader('x-served-by', pods[next++ % pods.length]!);
      if (req.url === '/whoami') {
        res.statusCode = whoami;
        res.end('{}');
        return;
      }
      if (req.method === 'POST') {
        const { productId } = JSON.parse(body) as { productId: number };
        items.set(productId, (items.get(productId) ?? 0) + 1);
      }
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({ items: [...items].map(([productId, quantity]) => ({ productId, quantity })) }),
      );
    });
  });
  return { server, seen };
}

async function listen(server: Server): Promise<Target> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('browse', () => {
  const shop = fakeShop(502, ['pod-a']);
  let target: Target;
  beforeAll(async () => {
    target = await listen(shop.server);
  });
  afterAll(() => new Promise<void>((r) => shop.server.close(() => r())));

  it('sends an item every tenth request, reads the cart every third of the others, and reports each failure', async () => {
    const s = new Shopper(3, 3, target);
    const failed: string[] = [];
    shop.seen.length = 0;
    await browse(s, 10, (what) => failed.push(what));
    await s.close();
    expect(shop.seen).toEqual([
      'POST /cart',
      'GET /whoami',
      'GET /whoami',
      'GET /cart',
      'GET /whoami',
      'GET /whoami',
      'GET /cart',
      'GET /whoami',
      'GET /whoami',
      'GET /cart',
    ]);
    expect(failed).toEqual(Array.from({ length: 6 }, () => 'shopper 3 GET /whoami: HTTP 502'));
    expect(s.lostCarts).toBe(0);
    expect(s.cart).toEqual(new Map([[4, 1]])); // 1 + ((3 + 0) % 24)
  });

  it('goes on after a network error, reporting it with the request it broke', async () => {
    const closed = fakeShop(200, ['pod-a']);
    const gone = await listen(closed.server);
    await new Promise<void>((r) => closed.server.close(() => r()));
    const s = new Shopper(7, 7, gone);
    const failed: string[] = [];
    await browse(s, 3, (what) => failed.push(what));
    await s.close();
    expect(failed).toHaveLength(3);
    expect(failed[0]).toMatch(/^shopper 7 POST \/cart: \S*Error/);
    expect(failed[1]).toMatch(/^shopper 7 GET \/whoami: /);
  });
});

describe('freshSessionsReach', () => {
  const shop = fakeShop(200, ['pod-a', 'pod-a', 'pod-b']);
  let target: Target;
  beforeAll(async () => {
    target = await listen(shop.server);
  });
  afterAll(() => new Promise<void>((r) => shop.server.close(() => r())));

  it('opens new sessions until they have reached the pods asked for', async () => {
    shop.seen.length = 0;
    await freshSessionsReach(target, 'two pods', (seen) => seen.size >= 2);
    expect(shop.seen).toEqual(['GET /whoami', 'GET /whoami', 'GET /whoami']);
  });
});
