// Shoppers' sessions through an ingress (Traefik's Ingress or Gateway on the local node): a shopper's requests
// with every failed one counted, and fresh sessions until they have reached the pods a step needs.
import { eventually } from '../../test/harness/wait.js';
import { PRODUCTS, Shopper, type Target } from './load.js';

/**
 * `n` requests of one shopper, in turn: every tenth adds an item to the cart, every third of the others reads the
 * cart (checked against what it must hold), the rest GET /whoami. A failed request (a status other than 200, or
 * a network error) is handed to `failed` as "shopper 3 GET /cart: HTTP 502", and the shopper goes on.
 */
export async function browse(s: Shopper, n: number, failed: (what: string) => void): Promise<void> {
  const ok = async (what: Promise<{ status: number }>, label: string) => {
    try {
      const r = await what;
      if (r.status !== 200) failed(`shopper ${s.id} ${label}: HTTP ${r.status}`);
    } catch (err) {
      failed(`shopper ${s.id} ${label}: ${String(err)}`);
    }
  };
  for (let i = 0; i < n; i++) {
    if (i % 10 === 0) await ok(s.addToCart(1 + ((s.id + i) % PRODUCTS)), 'POST /cart');
    else if (i % 3 === 0)
      await ok(
        s.checkCart().then((c) => c.reply),
        'GET /cart',
      );
    else await ok(s.request('GET', '/whoami'), 'GET /whoami');
  }
}

/**
 * New sessions (a fresh cookie jar each, one GET /whoami) until the pods they reached satisfy `enough`; an
 * ingress deals new sessions round robin over the endpoints it has read. Throws after 60 s.
 */
export async function freshSessionsReach(
  target: Target,
  what: string,
  enough: (seen: Set<string>) => boolean,
): Promise<void> {
  const seen = new Set<string>();
  await eventually(
    `new sessions reaching ${what}`,
    async () => {
      const s = new Shopper(101, 101, target);
      try {
        seen.add((await s.request('GET', '/whoami')).pod ?? '?');
      } finally {
        await s.close();
      }
      return enough(seen);
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
}
