// The shop's HTML pages (under /shop): pure functions from what a request found to a whole document. Every page
// says how it was served: which web pod, where its data came from (the Redis object cache, a replica, a primary),
// where the cart lives and which shard an order went to, so the design shows in a browser. Forms post to /shop/…
// and work without JavaScript (the server answers 303 and the browser loads the next page).
import type { CacheStatus, ProductPage, ProductSummary } from './catalog.js';
import { Html, html, type Value } from './html.js';
import type { Order } from './orders.js';

export interface CartLine {
  productId: number;
  quantity: number;
  /** Null when the product is gone from the catalog. */
  name: string | null;
  priceCents: number | null;
}

export interface CartView {
  customer: number | null;
  items: CartLine[];
  totalCents: number;
}

/** What every page shows in its header and its "how this page was served" box. */
export interface PageContext {
  /** The web pod that served the page. */
  pod: string;
  /** Items in the session's cart; undefined when there is no session or it could not be read. */
  cartCount?: number | undefined;
}

interface Fact {
  label: string;
  value: Value;
}

export const price = (cents: number): string => `$${(cents / 100).toFixed(2)}`;

const stars = (rating: number): string => {
  const n = Math.max(0, Math.min(5, Math.round(rating)));
  return '★'.repeat(n) + '☆'.repeat(5 - n);
};

/** A database target (as the metrics name it) in words: `shard-1-replica` → shard 1's replica. */
export function describeTarget(target: string): string {
  if (target === 'primary') return 'the main primary';
  if (target === 'replica') return 'the main replica';
  const shard = /^shard-(\d+)(-replica)?$/.exec(target);
  if (shard) return `shard ${shard[1]}'s ${shard[2] ? 'replica' : 'primary'}`;
  return target;
}

const targets = (answered: readonly string[]): Html =>
  answered.length === 0
    ? html`no database`
    : html`${answered.map((t, i) => html`${i > 0 ? ' and ' : ''}${describeTarget(t)} (<code>${t}</code>)`)}`;

/** A note when a read meant for a replica was answered by its primary (the replica was down or slow). */
const fallbackNote = (answered: readonly string[]): Html | undefined =>
  answered.some((t) => t === 'primary' || /^shard-\d+$/.test(t))
    ? html` <span class="note">The replica did not answer, so its primary did.</span>`
    : undefined;

function layout(ctx: PageContext, title: string, facts: Fact[], main: Html): Html {
  const cart = ctx.cartCount === undefined ? 'Cart' : `Cart (${ctx.cartCount})`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · scalable-shop</title>
        <link rel="stylesheet" href="/shop/style.css" />
      </head>
      <body>
        <header>
          <a class="brand" href="/shop">scalable-shop</a>
          <nav><a href="/shop">Products</a> <a href="/shop/cart" id="cart-link">${cart}</a></nav>
          <span class="pod" title="The web pod that served this page"
            >served by pod <strong id="pod">${ctx.pod}</strong></span
          >
        </header>
        <main>${main}</main>
        <aside id="served" aria-label="How this page was served">
          <h2>How this page was served</h2>
          <dl>
            <dt>Web pod</dt>
            <dd data-fact="pod">${ctx.pod}</dd>
            ${facts.map(
              (f) =>
                html`<dt>${f.label}</dt>
                  <dd>${f.value}</dd> `,
            )}
          </dl>
        </aside>
      </body>
    </html> `;
}

const addToCartForm = (productId: number, withQuantity: boolean): Html =>
  html`<form method="post" action="/shop/cart" class="add">
    <input type="hidden" name="productId" value="${productId}" />
    ${withQuantity ? html`<label>Quantity <input type="number" name="quantity" value="1" min="1" max="99" required /></label>` : html`<input type="hidden" name="quantity" value="1" />`}
    <button type="submit">Add to cart</button>
  </form>`;

export function catalogPage(ctx: PageContext, products: ProductSummary[], readFrom: string[]): Html {
  const cards = products.map(
    (p) =>
      html`<li class="card">
        <a href="/shop/products/${p.id}">${p.name}</a>
        <span class="category">${p.category}</span>
        <span class="price">${price(p.priceCents)}</span>
        <span class="stock">${p.stock > 0 ? `${p.stock} in stock` : 'sold out'}</span>
        ${addToCartForm(p.id, false)}
      </li> `,
  );
  return layout(
    ctx,
    'Products',
    [
      {
        label: 'Catalog',
        value: html`read from ${targets(readFrom)} on every request (the list is not
        cached).${fallbackNote(readFrom)}`,
      },
    ],
    html`<h1>Products</h1>
      ${
        products.length === 0
          ? html`<p>The catalog is empty.</p>`
          : html`<ul class="products">
              ${cards}
            </ul>`
      }`,
  );
}

function cacheFact(page: ProductPage, cache: CacheStatus, readFrom: string[]): Html {
  switch (cache) {
    case 'hit':
      return html`<span class="cache hit" data-cache="hit">the Redis object cache</span>: the whole page,
        assembled at ${page.assembledAt} by whichever pod first needed it; no database was asked.`;
    case 'miss':
      return html`<span class="cache miss" data-cache="miss">the database</span>: assembled from four queries
        on ${targets(readFrom)}, then stored in Redis, so the next shopper on any pod gets it from the
        cache.${fallbackNote(readFrom)}`;
    case 'bypass':
      return html`<span class="cache bypass" data-cache="bypass">the database</span>: four queries on
        ${targets(readFrom)} (the object cache is off: <code>CACHE_OBJECTS=off</code>).`;
  }
}

export function productPage(
  ctx: PageContext,
  page: ProductPage,
  cache: CacheStatus,
  readFrom: string[],
): Html {
  const rating =
    page.rating.average === null
      ? 'no reviews yet'
      : `${page.rating.average} of 5 (${page.rating.count} review${page.rating.count === 1 ? '' : 's'})`;
  return layout(
    ctx,
    page.name,
    [{ label: 'Product data came from', value: cacheFact(page, cache, readFrom) }],
    html`<p class="crumbs"><a href="/shop">Products</a> / ${page.category}</p>
      <h1>${page.name}</h1>
      <p class="meta">SKU ${page.sku} · ${rating}</p>
      <p>${page.description}</p>
      <p class="price">
        ${price(page.priceCents)} · ${page.stock > 0 ? `${page.stock} in stock` : 'sold out'}
      </p>
      ${addToCartForm(page.id, true)}
      ${
        page.related.length > 0
          ? html`<h2>Related</h2>
              <ul class="related">
                ${page.related.map((r) => html`<li><a href="/shop/products/${r.id}">${r.name}</a></li>`)}
              </ul>`
          : undefined
      }
      <h2>Reviews</h2>
      ${
        page.reviews.length === 0
          ? html`<p>No reviews yet.</p>`
          : html`<ul class="reviews">
              ${page.reviews.map(
                (r) =>
                  html`<li>
                    <strong>${r.author}</strong> <span class="rating">${stars(r.rating)}</span>
                    <p>${r.body}</p>
                  </li> `,
              )}
            </ul>`
      }
      <form method="post" action="/shop/products/${page.id}/reviews" class="review">
        <h3>Write a review</h3>
        <p class="note">
          It is written to the main primary, and the cached page is deleted: the next view is assembled anew.
        </p>
        <label>Name <input name="author" maxlength="100" required /></label>
        <label
          >Rating
          <select name="rating">
            ${[5, 4, 3, 2, 1].map((n) => html`<option value="${n}">${n}</option>`)}
          </select></label
        >
        <label>Review <textarea name="body" maxlength="2000" rows="3" required></textarea></label>
        <button type="submit">Post review</button>
      </form>`,
  );
}

export interface CartPageOptions {
  /** The shard that holds the orders of the cart's customer (null: the main database); undefined when no customer yet. */
  shardOfCustomer?: number | null | undefined;
}

export function cartPage(ctx: PageContext, cart: CartView, { shardOfCustomer }: CartPageOptions = {}): Html {
  const facts: Fact[] = [
    {
      label: 'Cart',
      value: html`in Redis, in the session the <code>shop_sid</code> cookie names, not in this pod: any pod
        can serve it, and it survives this pod being killed.`,
    },
  ];
  if (cart.customer !== null && shardOfCustomer !== undefined) {
    facts.push({
      label: 'Orders of customer',
      value: html`${cart.customer} go to
      ${shardOfCustomer === null ? 'the main primary (the shard map gives their bucket to the main database)' : html`<span data-shard="${shardOfCustomer}">shard ${shardOfCustomer}</span>`}.`,
    });
  }
  const lines = cart.items.map(
    (i) =>
      html`<tr>
        <td>
          ${i.name === null ? html`product ${i.productId} (no longer sold)` : html`<a href="/shop/products/${i.productId}">${i.name}</a>`}
        </td>
        <td class="num" data-quantity="${i.productId}">${i.quantity}</td>
        <td class="num">${i.priceCents === null ? '' : price(i.priceCents)}</td>
        <td class="num">${i.priceCents === null ? '' : price(i.priceCents * i.quantity)}</td>
      </tr> `,
  );
  const main =
    cart.items.length === 0
      ? html`<h1>Your cart</h1>
          <p id="cart-empty">Your cart is empty. <a href="/shop">See the products</a>.</p>`
      : html`<h1>Your cart</h1>
          <table class="cart">
            <thead>
              <tr>
                <th>Product</th>
                <th class="num">Quantity</th>
                <th class="num">Price</th>
                <th class="num">Subtotal</th>
              </tr>
            </thead>
            <tbody>
              ${lines}
            </tbody>
            <tfoot>
              <tr>
                <th colspan="3">Total</th>
                <td class="num" id="cart-total">${price(cart.totalCents)}</td>
              </tr>
            </tfoot>
          </table>
          <form method="post" action="/shop/checkout" class="checkout">
            <h2>Checkout</h2>
            <p class="note">
              Orders are stored on the shard of the customer number (a hash of it picks one of the shard map's
              buckets).
            </p>
            <label
              >Customer number
              <input
                type="number"
                name="customer"
                min="1"
                max="999999999"
                required
                value="${cart.customer ?? ''}"
            /></label>
            <button type="submit">Place order</button>
          </form>`;
  return layout(ctx, 'Your cart', facts, main);
}

export interface OrderPageOptions {
  /** The databases this page read the order from. */
  readFrom: string[];
}

export function orderPage(ctx: PageContext, order: Order, { readFrom }: OrderPageOptions): Html {
  const writtenTo = order.shard === null ? 'primary' : `shard-${order.shard}`;
  const fromPrimary = readFrom.includes(writtenTo);
  return layout(
    ctx,
    `Order ${order.id}`,
    [
      {
        label: 'Order written to',
        value:
          order.shard === null
            ? html`the main primary (<code>primary</code>): the shard map gives this customer’s bucket to the
              main database.`
            : html`<span data-shard="${order.shard}">shard ${order.shard}</span>'s primary
                (<code>${writtenTo}</code>), the shard of customer ${order.customer}.`,
      },
      {
        label: 'Stock reserved on',
        value: html`the main primary (<code>primary</code>), where stock lives.`,
      },
      {
        label: 'This page read it from',
        value: html`${targets(readFrom)}${fromPrimary ? html` <span class="note">The replica had not caught up with the order yet, so the primary answered.</span>` : undefined}`,
      },
    ],
    html`<h1>Order ${order.id} is placed</h1>
      <p>
        Customer ${order.customer} · ${order.createdAt} ·
        <strong id="order-shard">${order.shard === null ? 'unsharded' : `shard ${order.shard}`}</strong>
      </p>
      <table class="cart">
        <thead>
          <tr>
            <th>Product</th>
            <th class="num">Quantity</th>
            <th class="num">Price</th>
          </tr>
        </thead>
        <tbody>
          ${order.items.map(
            (i) =>
              html`<tr>
                <td>${i.name}</td>
                <td class="num">${i.quantity}</td>
                <td class="num">${price(i.priceCents)}</td>
              </tr> `,
          )}
        </tbody>
        <tfoot>
          <tr>
            <th colspan="2">Total</th>
            <td class="num">${price(order.totalCents)}</td>
          </tr>
        </tfoot>
      </table>
      <p><a href="/shop">Keep shopping</a></p>`,
  );
}

export interface ErrorPageOptions {
  /** The data store that is down, when that is why. */
  unavailable?: string | undefined;
}

export function errorPage(
  ctx: PageContext,
  status: number,
  message: string,
  options: ErrorPageOptions = {},
): Html {
  const facts: Fact[] = [];
  if (options.unavailable) {
    facts.push({
      label: 'Unavailable',
      value: html`<code>${options.unavailable}</code>: only what needs it fails; the rest of the shop answers.`,
    });
  }
  return layout(
    ctx,
    `Error ${status}`,
    facts,
    html`<h1>
        ${status === 404 ? 'Not found' : status === 503 ? 'Try again in a moment' : 'Something went wrong'}
      </h1>
      <p class="error">${message}</p>
      <p><a href="/shop">Back to the products</a></p>`,
  );
}

export const STYLE = `
:root { color-scheme: light dark; --accent: #2563eb; --muted: #6b7280; --line: #d1d5db; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 0 1rem 2rem; }
header { display: flex; flex-wrap: wrap; gap: 1rem; align-items: baseline; padding: 1rem 0; border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; font-size: 1.25rem; text-decoration: none; }
nav { display: flex; gap: 1rem; }
.pod { margin-left: auto; font-size: .9rem; color: var(--muted); }
a { color: var(--accent); }
.products { list-style: none; padding: 0; display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); }
.card { border: 1px solid var(--line); border-radius: .5rem; padding: .75rem; display: flex; flex-direction: column; gap: .25rem; }
.category, .meta, .note, .crumbs { color: var(--muted); font-size: .9rem; }
.price { font-weight: 600; }
form { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin: .5rem 0; }
form.review, form.checkout { flex-direction: column; align-items: stretch; max-width: 30rem; }
label { display: flex; flex-direction: column; font-size: .9rem; }
input, select, textarea, button { font: inherit; padding: .3rem .5rem; }
button { background: var(--accent); color: white; border: 0; border-radius: .25rem; cursor: pointer; }
table.cart { border-collapse: collapse; width: 100%; }
table.cart th, table.cart td { border-bottom: 1px solid var(--line); padding: .4rem; text-align: left; }
.num { text-align: right !important; }
.reviews { padding-left: 1rem; }
.cache { font-weight: 600; }
.cache.hit { color: #059669; }
.cache.miss, .cache.bypass { color: #d97706; }
.error { color: #dc2626; }
aside { margin-top: 2rem; border: 1px dashed var(--line); border-radius: .5rem; padding: .5rem 1rem; font-size: .9rem; }
aside h2 { font-size: 1rem; margin: .25rem 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
dt { font-weight: 600; }
dd { margin: 0; }
`;
