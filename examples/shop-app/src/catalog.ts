// The catalog: reads from the read URL (replicas; the main primary while they are down), writes to the main
// primary, and product pages as cached objects: a page is assembled from four queries (product, price and stock,
// reviews, related products) and kept whole in Redis (cache-aside with a TTL). A write that changes a page
// deletes it.
import type { Logger } from 'pino';
import type { Database, Databases, Reader } from './db.js';
import { TracedReader, withTimeout } from './db.js';
import type { Metrics } from './metrics.js';
import type { RedisClient } from './redis.js';

export interface ProductSummary {
  id: number;
  name: string;
  category: string;
  priceCents: number;
  stock: number;
}

export interface Review {
  id: number;
  author: string;
  rating: number;
  body: string;
  createdAt: string;
}

export interface ProductPage {
  id: number;
  sku: string;
  name: string;
  description: string;
  category: string;
  priceCents: number;
  stock: number;
  rating: { average: number | null; count: number };
  reviews: Review[];
  /** Names only: a related product's price changing does not make this page stale. */
  related: { id: number; name: string }[];
  assembledAt: string;
}

/** hit: from Redis; miss: assembled from the database (and cached); bypass: the object cache is off. */
export type CacheStatus = 'hit' | 'miss' | 'bypass';

export interface PageLookup {
  page: ProductPage | null;
  cache: CacheStatus;
  /** The databases that answered the assembly (`replica`, or `primary` while it was down); none on a hit. */
  readFrom: string[];
}

export async function listProducts(reader: Reader): Promise<ProductSummary[]> {
  return reader.rows<ProductSummary>(
    `SELECT p.id, p.name, p.category, i.price_cents AS priceCents, i.stock
       FROM products p JOIN inventory i ON i.product_id = p.id
      ORDER BY p.id LIMIT 200`,
  );
}

/** Assembles a product page from a replica: four queries, run in parallel. Null when there is no product. */
export async function assembleProductPage(reader: Reader, id: number): Promise<ProductPage | null> {
  const [products, inventory, reviews, related] = await Promise.all([
    reader.rows<{ id: number; sku: string; name: string; description: string; category: string }>(
      'SELECT id, sku, name, description, category FROM products WHERE id = ?',
      [id],
    ),
    reader.rows<{ priceCents: number; stock: number }>(
      'SELECT price_cents AS priceCents, stock FROM inventory WHERE product_id = ?',
      [id],
    ),
    reader.rows<Review>(
      `SELECT id, author, rating, body, created_at AS createdAt
         FROM reviews WHERE product_id = ? ORDER BY id DESC LIMIT 20`,
      [id],
    ),
    reader.rows<{ id: number; name: string }>(
      `SELECT r.id, r.name FROM products p JOIN products r ON r.category = p.category AND r.id <> p.id
        WHERE p.id = ? ORDER BY r.id LIMIT 4`,
      [id],
    ),
  ]);
  const product = products[0];
  const stock = inventory[0];
  if (!product || !stock) return null;
  const ratings = reviews.map((r) => r.rating);
  return {
    ...product,
    priceCents: stock.priceCents,
    stock: stock.stock,
    rating: {
      average: ratings.length
        ? Math.round((ratings.reduce((a, b) => a + b, 0) / ratings.length) * 10) / 10
        : null,
      count: ratings.length,
    },
    reviews,
    related,
    assembledAt: new Date().toISOString(),
  };
}

export interface ProductPagesOptions {
  enabled: boolean;
  /** Lifetime of a cached page; the real freshness comes from deleting it on write. */
  ttlSeconds?: number;
  /**
   * After a write, the page is deleted at once and again this much later: a reader that missed just before the
   * write could otherwise put back a page it assembled from a replica that had not yet caught up.
   */
  secondDeleteMs?: number;
  /** Redis calls of the object cache give up after this long, and the page is assembled from the database. */
  redisTimeoutMs?: number;
}

export const productPageKey = (id: number) => `shop:page:product:v1:${id}`;

export class ProductPages {
  private readonly ttlSeconds: number;
  private readonly secondDeleteMs: number;
  private readonly redisTimeoutMs: number;
  /** Loads in flight in this process, so that a burst of misses for one page costs one assembly. */
  private readonly loading = new Map<number, Promise<{ page: ProductPage | null; readFrom: string[] }>>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly redis: RedisClient,
    private readonly dbs: Databases,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly options: ProductPagesOptions,
  ) {
    this.ttlSeconds = options.ttlSeconds ?? 300;
    this.secondDeleteMs = options.secondDeleteMs ?? 1000;
    this.redisTimeoutMs = options.redisTimeoutMs ?? 250;
  }

  async get(id: number): Promise<PageLookup> {
    if (!this.options.enabled) return { ...(await this.assemble(id)), cache: 'bypass' };
    const key = productPageKey(id);
    try {
      const cached = await withTimeout(this.redis.get(key), this.redisTimeoutMs, 'object cache timed out');
      if (cached !== null) {
        this.metrics.objectCache.inc({ result: 'hit' });
        return { page: JSON.parse(cached) as ProductPage, cache: 'hit', readFrom: [] };
      }
      this.metrics.objectCache.inc({ result: 'miss' });
    } catch (err) {
      // Redis trouble degrades to the database; it does not fail the page.
      this.metrics.objectCache.inc({ result: 'error' });
      this.log.warn({ err: String(err) }, 'object cache read failed');
    }
    return { ...(await this.load(id, key)), cache: 'miss' };
  }

  private async assemble(id: number): Promise<{ page: ProductPage | null; readFrom: string[] }> {
    const reader = new TracedReader(this.dbs.catalog);
    const page = await assembleProductPage(reader, id);
    return { page, readFrom: [...reader.answered].sort() };
  }

  private load(id: number, key: string): Promise<{ page: ProductPage | null; readFrom: string[] }> {
    const inFlight = this.loading.get(id);
    if (inFlight) return inFlight;
    const load = (async () => {
      const assembled = await this.assemble(id);
      if (assembled.page) {
        await this.store(key, assembled.page).catch((err: unknown) =>
          this.log.warn({ err: String(err) }, 'object cache write failed'),
        );
      }
      return assembled;
    })().finally(() => this.loading.delete(id));
    this.loading.set(id, load);
    return load;
  }

  /**
   * Puts the page of `id` in the cache ahead of any reader, unless a page is there already: the background
   * worker's job. Only-if-absent (SET NX), so a warm pass never replaces a page that a reader or a write's
   * invalidation settled since. Errors are the caller's. 'absent': no such product.
   */
  async warm(id: number): Promise<'stored' | 'present' | 'absent'> {
    const key = productPageKey(id);
    if (await withTimeout(this.redis.exists(key), this.redisTimeoutMs, 'object cache timed out'))
      return 'present';
    const page = await assembleProductPage(this.dbs.catalog, id);
    if (!page) return 'absent';
    return (await this.store(key, page, { onlyIfAbsent: true })) ? 'stored' : 'present';
  }

  /** Writes a page with the TTL (±10% jitter, so that pages cached together do not expire together). */
  private async store(key: string, page: ProductPage, { onlyIfAbsent = false } = {}): Promise<boolean> {
    const ttl = Math.max(1, Math.round(this.ttlSeconds * (0.9 + Math.random() * 0.2)));
    const reply = await withTimeout(
      this.redis.set(key, JSON.stringify(page), {
        expiration: { type: 'EX', value: ttl },
        ...(onlyIfAbsent ? { condition: 'NX' as const } : {}),
      }),
      this.redisTimeoutMs,
      'object cache timed out',
    );
    return reply === 'OK';
  }

  /** Deletes the cached pages of `ids` now and once more after `secondDeleteMs`. */
  async invalidate(ids: number[]): Promise<void> {
    if (!this.options.enabled || ids.length === 0) return;
    const unique = [...new Set(ids)];
    for (const id of unique) this.loading.delete(id); // later readers start a fresh assembly
    const keys = unique.map(productPageKey);
    await this.redis.del(keys);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.redis
        .del(keys)
        .catch((err: unknown) => this.log.warn({ err: String(err) }, 'second delete failed'));
    }, this.secondDeleteMs);
    timer.unref();
    this.timers.add(timer);
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

export async function addReview(
  primary: Database,
  productId: number,
  review: { author: string; rating: number; body: string },
): Promise<Review | null> {
  const exists = await primary.rows('SELECT id FROM products WHERE id = ?', [productId]);
  if (exists.length === 0) return null;
  const result = await primary.exec(
    'INSERT INTO reviews (product_id, author, rating, body) VALUES (?, ?, ?, ?)',
    [productId, review.author, review.rating, review.body],
  );
  const [row] = await primary.rows<Review>(
    'SELECT id, author, rating, body, created_at AS createdAt FROM reviews WHERE id = ?',
    [result.insertId],
  );
  return row ?? null;
}

/** Changes price and/or stock; false when the product has no inventory row. */
export async function updateInventory(
  primary: Database,
  productId: number,
  change: { priceCents?: number | undefined; stock?: number | undefined },
): Promise<boolean> {
  const sets: string[] = [];
  const params: unknown[] = [];
  if (change.priceCents !== undefined) {
    sets.push('price_cents = ?');
    params.push(change.priceCents);
  }
  if (change.stock !== undefined) {
    sets.push('stock = ?');
    params.push(change.stock);
  }
  if (sets.length === 0)
    return (await primary.rows('SELECT 1 FROM inventory WHERE product_id = ?', [productId])).length > 0;
  const result = await primary.exec(`UPDATE inventory SET ${sets.join(', ')} WHERE product_id = ?`, [
    ...params,
    productId,
  ]);
  return result.affectedRows > 0;
}
