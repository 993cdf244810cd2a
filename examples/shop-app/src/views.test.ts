import { describe, expect, it } from '@jest/globals';
import type { ProductPage, ProductSummary } from './catalog.js';
import { escapeHtml, html } from './html.js';
import type { Order } from './orders.js';
import { cartPage, catalogPage, describeTarget, errorPage, orderPage, productPage } from './views.js';

const HOSTILE = `<script>alert("x")</script><img src=x onerror='y'>&amp;`;
const ctx = { pod: 'shop-web-7d9f-abcde', cartCount: 3 };

const product = (over: Partial<ProductPage> = {}): ProductPage => ({
  id: 7,
  sku: 'GAD-106',
  name: 'Quiet gadget',
  description: 'A quiet gadget from the example shop.',
  category: 'gadgets',
  priceCents: 1999,
  stock: 12,
  rating: { average: 4.5, count: 2 },
  reviews: [
    { id: 2, author: 'Ana', rating: 5, body: 'Great.', createdAt: '2026-12-01 04:00:00' },
    { id: 1, author: 'Bo', rating: 4, body: 'Good.', createdAt: '2026-12-01 03:00:00' },
  ],
  related: [{ id: 8, name: 'Loud gadget' }],
  assembledAt: '2026-12-01T04:05:06.000Z',
  ...over,
});

const summary = (over: Partial<ProductSummary> = {}): ProductSummary => ({
  id: 1,
  name: 'Quiet gadget',
  category: 'gadgets',
  priceCents: 1999,
  stock: 12,
  ...over,
});

const order = (over: Partial<Order> = {}): Order => ({
  id: 41,
  customer: 1234,
  shard: 1,
  totalCents: 3998,
  createdAt: '2026-12-01 04:10:00',
  items: [{ productId: 7, name: 'Quiet gadget', quantity: 2, priceCents: 1999 }],
  ...over,
});

const ENTITIES: Record<string, string> = {
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
  '&amp;': '&',
};
const decode = (s: string) => s.replace(/&(lt|gt|quot|#39|amp);/g, (e) => ENTITIES[e]!);
const collapse = (s: string) => s.replace(/\s+/g, ' ').trim();

/** The text of the page with tags removed, entities decoded, whitespace collapsed: what a person reads. */
const text = (page: { text: string }) => collapse(decode(page.text.replace(/<[^>]*>/g, ' ')));

/** Every tag name in the page: injected markup would add tags (script, img) that the templates never write. */
const tags = (page: { text: string }) =>
  new Set([...page.text.matchAll(/<([a-z][a-z0-9]*)/gi)].map((m) => m[1]!));

interface Element {
  attrs: Record<string, string>;
  /** The text up to the element's end tag (elements looked up here do not nest in their own kind). */
  text: string;
}

/** The `tag` elements of the page, with their (decoded) attributes and text. */
function elements(page: { text: string }, tag: string): Element[] {
  return [...page.text.matchAll(new RegExp(`<${tag}\\b([^>]*)>`, 'g'))].map((m) => {
    const attrs = Object.fromEntries(
      [...m[1]!.matchAll(/([a-z-]+)(?:="([^"]*)")?/g)].map((a) => [a[1]!, decode(a[2] ?? '')]),
    );
    const rest = page.text.slice(m.index + m[0].length);
    const end = rest.indexOf(`</${tag}>`);
    return { attrs, text: collapse(decode((end < 0 ? '' : rest.slice(0, end)).replace(/<[^>]*>/g, ' '))) };
  });
}

/** The `tag` elements that have every attribute of `attrs`. */
const find = (page: { text: string }, tag: string, attrs: Record<string, string>) =>
  elements(page, tag).filter((e) => Object.entries(attrs).every(([k, v]) => e.attrs[k] === v));

/** The tag under another name, so that prettier leaves these templates' whitespace alone. */
const h = html;

describe('the html tag', () => {
  it('escapes every interpolated string, in text and in quoted attributes', () => {
    expect(h`<p title="${`"onmouseover='x'`}">${'<b>&</b>'}</p>`.text).toBe(
      '<p title="&quot;onmouseover=&#39;x&#39;">&lt;b&gt;&amp;&lt;/b&gt;</p>',
    );
  });

  it('keeps nested templates as markup, renders lists, and nothing for null, undefined and false', () => {
    const items = ['a<', 'b'].map((x) => h`<li>${x}</li>`);
    expect(h`<ul>${items}</ul>${null}${undefined}${false}${0}`.text).toBe(
      '<ul><li>a&lt;</li><li>b</li></ul>0',
    );
  });

  it('escapes the five characters that matter and nothing else', () => {
    expect(escapeHtml(`&<>"' é ★`)).toBe('&amp;&lt;&gt;&quot;&#39; é ★');
  });
});

describe('every page', () => {
  const pages = {
    catalog: catalogPage(ctx, [summary()], ['replica']),
    product: productPage(ctx, product(), 'hit', []),
    cart: cartPage(ctx, { customer: null, items: [], totalCents: 0 }),
    order: orderPage(ctx, order(), { readFrom: ['shard-1-replica'] }),
    error: errorPage(ctx, 404, 'product not found'),
  };

  it.each(Object.entries(pages))('%s: a whole document that names the pod that served it', (_, page) => {
    expect(page.text).toMatch(/^<!doctype html>/);
    expect(text(page)).toContain('served by pod shop-web-7d9f-abcde');
    expect(find(page, 'strong', { id: 'pod' }).map((e) => e.text)).toEqual(['shop-web-7d9f-abcde']);
    expect(find(page, 'dd', { 'data-fact': 'pod' }).map((e) => e.text)).toEqual(['shop-web-7d9f-abcde']);
    expect(find(page, 'a', { id: 'cart-link', href: '/shop/cart' }).map((e) => e.text)).toEqual(['Cart (3)']);
    expect(tags(page).has('script')).toBe(false);
  });

  it('escapes a hostile pod name', () => {
    const page = errorPage({ pod: HOSTILE }, 500, 'internal error');
    expect(page.text).not.toContain('<script>');
    expect(text(page)).toContain(`served by pod ${HOSTILE}`);
    expect(tags(page).has('img')).toBe(false);
  });
});

describe('the catalog page', () => {
  it('lists each product with a link, price, stock and an add-to-cart form that posts its id', () => {
    const page = catalogPage(ctx, [summary(), summary({ id: 2, name: 'Gone', stock: 0 })], ['replica']);
    expect(find(page, 'a', { href: '/shop/products/1' }).map((e) => e.text)).toEqual(['Quiet gadget']);
    expect(text(page)).toContain('$19.99 12 in stock');
    expect(text(page)).toContain('sold out');
    expect(find(page, 'form', { method: 'post', action: '/shop/cart' })).toHaveLength(2);
    expect(find(page, 'input', { type: 'hidden', name: 'productId' }).map((e) => e.attrs.value)).toEqual([
      '1',
      '2',
    ]);
  });

  it('says which database answered, and when the primary stood in for the replica', () => {
    expect(text(catalogPage(ctx, [], ['replica']))).toContain(
      'Catalog read from the main replica ( replica ) on every request',
    );
    const fallback = text(catalogPage(ctx, [], ['primary']));
    expect(fallback).toContain('read from the main primary ( primary )');
    expect(fallback).toContain('The replica did not answer, so its primary did.');
  });

  it('escapes hostile product names and categories', () => {
    const page = catalogPage(ctx, [summary({ name: HOSTILE, category: HOSTILE })], ['replica']);
    expect([...tags(page)].filter((t) => t === 'script' || t === 'img')).toEqual([]);
    expect(page.text).toContain(escapeHtml(HOSTILE));
  });
});

describe('the product page', () => {
  it('says a hit came from the Redis object cache, and when it was assembled', () => {
    const page = productPage(ctx, product(), 'hit', []);
    expect(find(page, 'span', { 'data-cache': 'hit' })).toHaveLength(1);
    expect(text(page)).toContain('Product data came from the Redis object cache');
    expect(text(page)).toContain('2026-12-01T04:05:06.000Z');
    expect(text(page)).toContain('no database was asked');
  });

  it('says a miss came from the database, which one, and that it is now cached', () => {
    const page = text(productPage(ctx, product(), 'miss', ['replica']));
    expect(page).toContain('Product data came from the database');
    expect(page).toContain('four queries on the main replica ( replica )');
    expect(page).toContain('stored in Redis');
    expect(page).not.toContain('The replica did not answer');
    expect(text(productPage(ctx, product(), 'bypass', ['replica']))).toContain('CACHE_OBJECTS=off');
  });

  it('shows the product, its reviews, related products and the forms', () => {
    const page = productPage(ctx, product(), 'hit', []);
    expect(text(page)).toContain('Quiet gadget');
    expect(text(page)).toContain('SKU GAD-106 · 4.5 of 5 (2 reviews)');
    expect(text(page)).toContain('$19.99 · 12 in stock');
    expect(text(page)).toContain('Ana ★★★★★ Great.');
    expect(find(page, 'a', { href: '/shop/products/8' }).map((e) => e.text)).toEqual(['Loud gadget']);
    expect(find(page, 'form', { method: 'post', action: '/shop/products/7/reviews' })).toHaveLength(1);
    expect(find(page, 'input', { name: 'productId', value: '7' })).toHaveLength(1);
    expect(
      find(page, 'input', { type: 'number', name: 'quantity', value: '1', min: '1', max: '99' }),
    ).toHaveLength(1);
  });

  it('escapes hostile names, descriptions and reviews (what shoppers write)', () => {
    const page = productPage(
      ctx,
      product({
        name: HOSTILE,
        description: HOSTILE,
        sku: HOSTILE,
        category: HOSTILE,
        reviews: [{ id: 1, author: HOSTILE, rating: 3, body: HOSTILE, createdAt: '' }],
        related: [{ id: 2, name: HOSTILE }],
      }),
      'miss',
      ['replica'],
    );
    expect([...tags(page)].filter((t) => t === 'script' || t === 'img')).toEqual([]);
    expect(page.text.split(escapeHtml(HOSTILE)).length - 1).toBe(8); // title, crumbs, h1, sku, description, related, author, body
  });
});

describe('the cart page', () => {
  const cart = {
    customer: 1234,
    items: [
      { productId: 7, quantity: 2, name: 'Quiet gadget', priceCents: 1999 },
      { productId: 9, quantity: 1, name: null, priceCents: null },
    ],
    totalCents: 3998,
  };

  it('shows the lines, the total and a checkout form for the customer, and where the cart lives', () => {
    const page = cartPage(ctx, cart, { shardOfCustomer: 1 });
    expect(find(page, 'td', { 'data-quantity': '7' }).map((e) => e.text)).toEqual(['2']);
    expect(text(page)).toContain('Quiet gadget 2 $19.99 $39.98');
    expect(text(page)).toContain('product 9 (no longer sold)');
    expect(find(page, 'td', { id: 'cart-total' }).map((e) => e.text)).toEqual(['$39.98']);
    expect(find(page, 'form', { method: 'post', action: '/shop/checkout' })).toHaveLength(1);
    expect(find(page, 'input', { name: 'customer', type: 'number', value: '1234' })[0]?.attrs).toHaveProperty(
      'required',
    );
    expect(text(page)).toContain('Cart in Redis');
    expect(text(page)).toContain('survives this pod being killed');
    expect(text(page)).toContain('Orders of customer 1234 go to shard 1 .');
  });

  it('says when the customer’s orders are on the main database, and shows an empty cart without a form', () => {
    expect(text(cartPage(ctx, cart, { shardOfCustomer: null }))).toContain(
      'go to the main primary (the shard map gives their bucket to the main database)',
    );
    const empty = cartPage(ctx, { customer: null, items: [], totalCents: 0 });
    expect(text(empty)).toContain('Your cart is empty.');
    expect(find(empty, 'form', { action: '/shop/checkout' })).toEqual([]);
    expect(text(empty)).not.toContain('Orders of customer');
  });

  it('escapes hostile product names', () => {
    const page = cartPage(ctx, {
      ...cart,
      items: [{ productId: 7, quantity: 1, name: HOSTILE, priceCents: 1 }],
    });
    expect([...tags(page)].filter((t) => t === 'script' || t === 'img')).toEqual([]);
  });
});

describe('the order page', () => {
  it('names the shard the order was written to and the replica that answered', () => {
    const page = orderPage(ctx, order(), { readFrom: ['shard-1-replica'] });
    expect(find(page, 'strong', { id: 'order-shard' }).map((e) => e.text)).toEqual(['shard 1']);
    expect(text(page)).toContain(
      "Order written to shard 1 's primary ( shard-1 ), the shard of customer 1234.",
    );
    expect(text(page)).toContain('Stock reserved on the main primary');
    expect(text(page)).toContain("This page read it from shard 1's replica ( shard-1-replica )");
    expect(text(page)).not.toContain('had not caught up');
    expect(text(page)).toContain('Quiet gadget 2 $19.99');
    expect(text(page)).toContain('Total $39.98');
  });

  it('says when the replica had not caught up and the primary answered', () => {
    const page = text(orderPage(ctx, order(), { readFrom: ['shard-1-replica', 'shard-1'] }));
    expect(page).toContain("shard 1's replica ( shard-1-replica ) and shard 1's primary ( shard-1 )");
    expect(page).toContain('The replica had not caught up with the order yet, so the primary answered.');
  });

  it('says when the order is on the main database', () => {
    const page = orderPage(ctx, order({ shard: null }), { readFrom: ['replica'] });
    expect(find(page, 'strong', { id: 'order-shard' }).map((e) => e.text)).toEqual(['unsharded']);
    expect(text(page)).toContain(
      'the main primary ( primary ): the shard map gives this customer’s bucket to the main database.',
    );
  });

  it('escapes hostile item names', () => {
    const page = orderPage(
      ctx,
      order({ items: [{ productId: 1, name: HOSTILE, quantity: 1, priceCents: 1 }] }),
      {
        readFrom: [],
      },
    );
    expect([...tags(page)].filter((t) => t === 'script' || t === 'img')).toEqual([]);
  });
});

describe('the error page', () => {
  it('shows the message escaped, and which data store is down', () => {
    const page = errorPage(ctx, 503, `shard-1 is unavailable: ${HOSTILE}; try again`, {
      unavailable: 'shard-1',
    });
    expect(text(page)).toContain('Try again in a moment');
    expect(text(page)).toContain('Unavailable shard-1 : only what needs it fails');
    expect([...tags(page)].filter((t) => t === 'script' || t === 'img')).toEqual([]);
  });
});

describe('describeTarget', () => {
  it.each([
    ['primary', 'the main primary'],
    ['replica', 'the main replica'],
    ['shard-0', "shard 0's primary"],
    ['shard-12-replica', "shard 12's replica"],
    ['other', 'other'],
  ])('%s is %s', (target, words) => expect(describeTarget(target)).toBe(words));
});
