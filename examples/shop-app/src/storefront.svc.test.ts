// The HTML pages against real servers (Redis, a MariaDB main primary with a real replica, two shard primaries,
// shard 0 with a replica), driven as a browser without JavaScript drives them: GET pages, POST forms, follow the
// 303s by hand. The JSON API at the same paths keeps answering JSON clients.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { startShopServers, type ShopServers } from '../test/servers.js';
import { createShopApp, type ShopApp } from './app.js';
import { parseConfig } from './config.js';
import { shardForKey } from './shards.js';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

interface Page {
  status: number;
  headers: Headers;
  text: string;
  location: string | null;
  /** The session cookie the answer set, as a Cookie header value. */
  setCookie: string | undefined;
}

/** One request as a browser sends it (redirects not followed: the test follows them). */
async function browse(
  app: ShopApp,
  path: string,
  init: { form?: Record<string, string>; cookie?: string | undefined; origin?: string; accept?: string } = {},
): Promise<Page> {
  const res = await fetch(app.url + path, {
    method: init.form ? 'POST' : 'GET',
    redirect: 'manual',
    headers: {
      accept: init.accept ?? BROWSER_ACCEPT,
      ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      ...(init.cookie ? { cookie: init.cookie } : {}),
      ...(init.origin ? { origin: init.origin } : {}),
    },
    ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  return {
    status: res.status,
    headers: res.headers,
    text: await res.text(),
    location: res.headers.get('location'),
    setCookie: res.headers.get('set-cookie')?.split(';')[0],
  };
}

/** What a person reads: tags removed, entities decoded, whitespace collapsed. */
const words = (page: Page) =>
  page.text
    .replace(/<[^>]*>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

const customerOn = (shard: number, count: number) => {
  for (let id = 5000; ; id++) if (shardForKey(id, count, 1024) === shard) return id;
};

describe('the HTML shop against real Redis and MariaDB', () => {
  let servers: ShopServers;
  const apps: ShopApp[] = [];
  let app: ShopApp;
  let origin: string;

  const startApp = async (pod: string) => {
    const instance = createShopApp(parseConfig({ PORT: '0', POD_NAME: pod, ...servers.env('pages') }), {
      logger: pino({ level: 'silent' }),
      host: '127.0.0.1',
      secondDeleteMs: 100,
    });
    apps.push(instance);
    await instance.start();
    return instance;
  };

  beforeAll(async () => {
    servers = await startShopServers({ mainReplica: true, shards: 2, shardReplicas: [0] });
    await servers.createDatabase('pages');
    app = await startApp('web-a');
    origin = new URL(app.url).origin;
    await servers.syncReplicas();
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(apps.map((a) => a.stop()));
    await servers?.stop();
  }, 30_000);

  it('keeps the JSON API for JSON clients and sends browsers to /shop', async () => {
    for (const accept of ['*/*', 'application/json']) {
      const list = await browse(app, '/', { accept });
      expect(list.status).toBe(200);
      expect(list.headers.get('content-type')).toMatch(/^application\/json/);
      expect((JSON.parse(list.text) as { products: unknown[] }).products).toHaveLength(24);
      const product = await browse(app, '/products/3', { accept });
      expect(JSON.parse(product.text)).toMatchObject({ id: 3 });
      expect((await browse(app, '/products/999', { accept })).text).toBe('{"error":"product not found"}');
    }
    expect(await browse(app, '/')).toMatchObject({ status: 303, location: '/shop' });
    expect(await browse(app, '/products/3')).toMatchObject({ status: 303, location: '/shop/products/3' });
  });

  it('lists the catalog, names the pod and the replica that answered, with safe headers', async () => {
    const page = await browse(app, '/shop');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.headers.get('x-served-by')).toBe('web-a');
    expect(words(page)).toContain('served by pod web-a');
    expect(words(page)).toContain('Catalog read from the main replica ( replica )');
    expect(page.text.match(/<li class="card">/g)).toHaveLength(24);
    const css = await browse(app, '/shop/style.css');
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.text).toContain('body {');
  });

  it('shows a product from the database first, then from the Redis object cache', async () => {
    const first = await browse(app, '/shop/products/4');
    expect(first.headers.get('x-cache')).toBe('miss');
    expect(words(first)).toContain(
      'Product data came from the database : assembled from four queries on the main replica ( replica )',
    );
    const second = await browse(app, '/shop/products/4');
    expect(second.headers.get('x-cache')).toBe('hit');
    expect(words(second)).toContain('Product data came from the Redis object cache');
    const missing = await browse(app, '/shop/products/999');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(words(missing)).toContain('product not found');
  });

  it('adds to the cart with a form post, and another pod serves the same cart', async () => {
    const added = await browse(app, '/shop/cart', { form: { productId: '3', quantity: '2' }, origin });
    expect(added).toMatchObject({ status: 303, location: '/shop/cart' });
    const cookie = added.setCookie;
    expect(cookie).toMatch(/^shop_sid=/);
    await browse(app, '/shop/cart', { form: { productId: '5', quantity: '1' }, cookie, origin });
    const cart = await browse(app, '/shop/cart', { cookie });
    expect(cart.text).toMatch(/data-quantity="3"\s*>\s*2\s*</);
    expect(cart.text).toMatch(/data-quantity="5"\s*>\s*1\s*</);
    expect(words(cart)).toContain('Cart (3)');

    const other = await startApp('web-b');
    const elsewhere = await browse(other, '/shop/cart', { cookie });
    expect(words(elsewhere)).toContain('served by pod web-b');
    expect(elsewhere.text).toMatch(/data-quantity="3"\s*>\s*2\s*</);
    expect(words(elsewhere)).toContain('Cart (3)');
  });

  it('places the order on the customer’s shard and shows where it was written and read', async () => {
    const customer = customerOn(1, 2);
    const added = await browse(app, '/shop/cart', { form: { productId: '6' }, origin });
    const cookie = added.setCookie;
    const placed = await browse(app, '/shop/checkout', {
      form: { customer: String(customer) },
      cookie,
      origin,
    });
    expect(placed.status).toBe(303);
    const id = /^\/shop\/orders\/(\d+)$/.exec(placed.location ?? '')?.[1];
    expect(id).toBeDefined();
    const order = await browse(app, placed.location!, { cookie });
    expect(order.status).toBe(200);
    expect(words(order)).toContain(`Order ${id} is placed`);
    expect(words(order)).toContain(
      `Order written to shard 1 's primary ( shard-1 ), the shard of customer ${customer}.`,
    );
    expect(words(order)).toMatch(/This page read it from shard 1's (replica|primary)/);
    // The JSON API reads the same order from the same shard.
    const json = await browse(app, `/orders/${id}?customer=${customer}`, { accept: 'application/json' });
    expect(JSON.parse(json.text)).toMatchObject({ id: Number(id), customer, shard: 1 });
    // The cart is empty now, and knows the customer and its shard.
    const cart = await browse(app, '/shop/cart', { cookie });
    expect(words(cart)).toContain('Your cart is empty.');
    expect(words(cart)).toContain(`Orders of customer ${customer} go to shard 1 .`);
    // Another session cannot see the order.
    expect((await browse(app, placed.location!)).status).toBe(404);
  });

  it('refuses a form post from another site, and leaves the cart as it was', async () => {
    const added = await browse(app, '/shop/cart', { form: { productId: '2' }, origin });
    const cookie = added.setCookie;
    const forged = await browse(app, '/shop/cart', {
      form: { productId: '2', quantity: '50' },
      cookie,
      origin: 'http://attacker.example',
    });
    expect(forged.status).toBe(403);
    expect(words(forged)).toContain('a form of another site cannot post to this shop');
    expect((await browse(app, '/shop/cart', { cookie })).text).toMatch(/data-quantity="2"\s*>\s*1\s*</);
  });

  it('posts a hostile review: it is escaped, and the cached page is deleted', async () => {
    await browse(app, '/shop/products/7'); // cached now
    const hostile = '<script>alert(1)</script>';
    const posted = await browse(app, '/shop/products/7/reviews', {
      form: { author: hostile, rating: '4', body: `<img src=x onerror="alert(2)">` },
      origin,
    });
    expect(posted).toMatchObject({ status: 303, location: '/shop/products/7' });
    const page = await browse(app, '/shop/products/7');
    // The write deleted the cached page; the replica may lag, so read it until the review shows.
    expect(page.headers.get('x-cache')).toBe('miss');
    let text = page.text;
    for (let i = 0; i < 20 && !text.includes('&lt;script&gt;'); i++) {
      await new Promise((r) => setTimeout(r, 200));
      text = (await browse(app, '/shop/products/7')).text;
    }
    expect(text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(text).toContain('&lt;img src=x onerror=&quot;alert(2)&quot;&gt;');
    expect(text).not.toContain('<script');
    expect(text).not.toContain('<img');
  });

  it('answers a bad form with an HTML error page', async () => {
    const bad = await browse(app, '/shop/checkout', { form: { customer: 'x' }, origin });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(words(bad)).toContain('customer must be an integer between 1 and 999999999');
    const wrongMethod = await browse(app, '/shop/checkout');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
  });
});
