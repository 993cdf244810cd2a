// The shop for people: HTML pages under /shop (the JSON API keeps `/`, `/products/:id`, `/cart`, `/orders`).
// Forms post here and get a 303 to the page to show next, so they work without JavaScript and a reload never
// posts twice. The session cookie is SameSite=Lax (another site's form post does not carry it), and a post whose
// Origin is another site is refused as well.
import { Unavailable } from './availability.js';
import { type CacheStatus, listProducts, type ProductPages, type Review } from './catalog.js';
import { type Databases, TracedReader } from './db.js';
import type { Html } from './html.js';
import {
  type Context,
  HttpError,
  intField,
  pathId,
  readBody,
  type Reply,
  type Router,
  textField,
} from './http.js';
import { type Order, readOrder } from './orders.js';
import type { OrderRouter } from './routing.js';
import type { SessionData } from './sessions.js';
import {
  cartPage,
  type CartView,
  catalogPage,
  errorPage,
  orderPage,
  type PageContext,
  productPage,
  STYLE,
} from './views.js';

export interface StorefrontDeps {
  pod: string;
  dbs: Databases;
  /** Where a customer's orders live (the shard map's owner of their bucket). */
  orders: OrderRouter;
  pages: ProductPages;
  currentSession(ctx: Context): Promise<SessionData | undefined>;
  /** The request's session, created (with its Set-Cookie) when there is none. */
  sessionForWrite(ctx: Context): Promise<SessionData>;
  addToCart(session: SessionData, productId: number, quantity: number): Promise<void>;
  cartView(session: SessionData | undefined): Promise<CartView>;
  /** Places an order of the session's cart for `customer`, as POST /orders does. */
  checkout(session: SessionData | undefined, customer: number): Promise<Order>;
  /** Writes a review and deletes the product's cached page, as POST /products/:id/reviews does. */
  addReview(
    productId: number,
    review: { author: string; rating: number; body: string },
  ): Promise<Review | null>;
}

export const isStorefrontPath = (path: string): boolean => path === '/shop' || path.startsWith('/shop/');

const HTML_HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  // No script, nothing from elsewhere, forms only to this origin, not framed.
  'Content-Security-Policy':
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
};

const htmlReply = (page: Html, status = 200, headers: Record<string, string> = {}): Reply => ({
  status,
  body: page.text,
  headers: { ...HTML_HEADERS, ...headers },
});

/** 303 See Other: after a form post, the browser loads `location` with a GET. */
export const seeOther = (location: string, headers: Record<string, string> = {}): Reply => ({
  status: 303,
  body: '',
  headers: { 'Content-Type': 'text/plain; charset=utf-8', Location: location, ...headers },
});

export interface Failure {
  status: number;
  error: string;
  headers?: Record<string, string>;
  unavailable?: string;
}

export const errorReply = (pod: string, failure: Failure): Reply =>
  htmlReply(
    errorPage({ pod }, failure.status, failure.error, { unavailable: failure.unavailable }),
    failure.status,
    failure.headers,
  );

/** Refuses a form post from another site (its Origin names another host); posts without Origin pass. */
function assertSameOrigin(ctx: Context): void {
  const origin = ctx.req.headers.origin;
  if (origin === undefined) return;
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch {
    host = undefined;
  }
  if (host === undefined || host !== ctx.req.headers.host) {
    throw new HttpError(403, 'a form of another site cannot post to this shop');
  }
}

const cartCount = (session: SessionData | undefined) =>
  session ? session.cart.reduce((n, i) => n + i.quantity, 0) : 0;

export function registerStorefront(router: Router, deps: StorefrontDeps): Router {
  const { pod, dbs, pages } = deps;

  /** The header's cart count; a page does not fail because the session cannot be read (Redis down). */
  const context = async (ctx: Context): Promise<PageContext> => ({
    pod,
    cartCount: await deps.currentSession(ctx).then(cartCount, () => undefined),
  });

  return router
    .on('GET', '/shop/style.css', async () => ({
      body: STYLE,
      headers: { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'public, max-age=300' },
    }))
    .on('GET', '/shop', async (ctx) => {
      const reader = new TracedReader(dbs.catalog);
      const [products, page] = await Promise.all([listProducts(reader), context(ctx)]);
      return htmlReply(catalogPage(page, products, [...reader.answered].sort()));
    })
    .on('GET', '/shop/products/:id', async (ctx) => {
      const id = pathId(ctx.params.id, 'product');
      const [{ page, cache, readFrom }, view] = await Promise.all([pages.get(id), context(ctx)]);
      const headers: Record<string, string> = { 'X-Cache': cache satisfies CacheStatus };
      if (!page) throw new HttpError(404, 'product not found', headers);
      return htmlReply(productPage(view, page, cache, readFrom), 200, headers);
    })
    .on('POST', '/shop/products/:id/reviews', async (ctx) => {
      assertSameOrigin(ctx);
      const id = pathId(ctx.params.id, 'product');
      const body = await readBody(ctx.req);
      const review = await deps.addReview(id, {
        author: textField(body.author, 'author', 100),
        rating: intField(body.rating, 'rating', 1, 5),
        body: textField(body.body, 'body', 2000),
      });
      if (!review) throw new HttpError(404, 'product not found');
      return seeOther(`/shop/products/${id}`);
    })
    .on('GET', '/shop/cart', async (ctx) => {
      const session = await deps.currentSession(ctx);
      const cart = await deps.cartView(session);
      // Where the customer's orders go is only shown: when the shard map cannot be read, the cart is still served.
      const shardOfCustomer =
        cart.customer === null
          ? undefined
          : await deps.orders.target(cart.customer).then(
              (t) => t.shard,
              (err: unknown) => {
                if (err instanceof Unavailable) return undefined;
                throw err;
              },
            );
      return htmlReply(cartPage({ pod, cartCount: cartCount(session) }, cart, { shardOfCustomer }));
    })
    .on('POST', '/shop/cart', async (ctx) => {
      assertSameOrigin(ctx);
      const body = await readBody(ctx.req);
      const productId = intField(body.productId, 'productId');
      const quantity = body.quantity === undefined ? 1 : intField(body.quantity, 'quantity', 1, 99);
      const { page } = await pages.get(productId);
      if (!page) throw new HttpError(404, `product ${productId} not found`);
      const session = await deps.sessionForWrite(ctx);
      await deps.addToCart(session, productId, quantity);
      return seeOther('/shop/cart');
    })
    .on('POST', '/shop/checkout', async (ctx) => {
      assertSameOrigin(ctx);
      const body = await readBody(ctx.req);
      const customer = intField(body.customer, 'customer', 1, 999_999_999);
      const order = await deps.checkout(await deps.currentSession(ctx), customer);
      return seeOther(`/shop/orders/${order.id}`);
    })
    .on('GET', '/shop/orders/:id', async (ctx) => {
      const id = pathId(ctx.params.id, 'order');
      const session = await deps.currentSession(ctx);
      if (session?.customer === undefined) throw new HttpError(404, 'order not found in this session');
      const { customer } = session;
      const target = await deps.orders.target(customer);
      // From the shard's replica; right after the order it may lag, and then the primary that took it answers.
      const replica = new TracedReader(target.read);
      let order = await readOrder(replica, target.shard, customer, id);
      const readFrom = [...replica.answered];
      if (!order) {
        const primary = new TracedReader(target.write);
        order = await readOrder(primary, target.shard, customer, id);
        readFrom.push(...primary.answered);
      }
      if (!order) throw new HttpError(404, 'order not found in this session');
      return htmlReply(
        orderPage({ pod, cartCount: cartCount(session) }, order, { readFrom: [...new Set(readFrom)] }),
      );
    });
}
