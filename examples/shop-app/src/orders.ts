// Orders: written to the shard that owns the customer (the main primary when unsharded) and read back from that
// shard's read URL. Stock lives with the catalog on the main primary, so placing an order is two steps on two
// databases: reserve the stock (one transaction on the main primary, authoritative prices), then write the
// order (one transaction on the shard). If the second step fails the reservation is given back. An order whose
// shard primary is known to be down fails at once (an Unavailable naming the shard: a 503) without touching the
// stock; orders of the other shards go on.
import type { Logger } from 'pino';
import type { Databases, Reader } from './db.js';
import { HttpError } from './http.js';
import type { CartItem } from './sessions.js';

export interface OrderItem {
  productId: number;
  name: string;
  quantity: number;
  priceCents: number;
}

export interface Order {
  id: number;
  customer: number;
  /** The shard that holds the order; null when unsharded. */
  shard: number | null;
  totalCents: number;
  createdAt: string;
  items: OrderItem[];
}

async function reserveStock(dbs: Databases, cart: CartItem[]): Promise<OrderItem[]> {
  return dbs.primary.transaction(async (tx) => {
    const ids = cart.map((i) => i.productId);
    const rows = await tx.rows<{ id: number; name: string; priceCents: number; stock: number }>(
      `SELECT p.id, p.name, i.price_cents AS priceCents, i.stock
         FROM inventory i JOIN products p ON p.id = i.product_id
        WHERE i.product_id IN (?) ORDER BY p.id FOR UPDATE`,
      [ids],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    const items: OrderItem[] = [];
    for (const { productId, quantity } of cart) {
      const row = byId.get(productId);
      if (!row) throw new HttpError(409, `product ${productId} is no longer sold`);
      if (row.stock < quantity) {
        throw new HttpError(
          409,
          `product ${productId} has only ${row.stock} in stock, the cart wants ${quantity}`,
        );
      }
      items.push({ productId, name: row.name, quantity, priceCents: row.priceCents });
    }
    for (const item of items) {
      await tx.exec('UPDATE inventory SET stock = stock - ? WHERE product_id = ?', [
        item.quantity,
        item.productId,
      ]);
    }
    return items;
  });
}

async function releaseStock(dbs: Databases, items: OrderItem[]): Promise<void> {
  await dbs.primary.transaction(async (tx) => {
    for (const item of items) {
      await tx.exec('UPDATE inventory SET stock = stock + ? WHERE product_id = ?', [
        item.quantity,
        item.productId,
      ]);
    }
  });
}

/** Places an order for `customer` from `cart`; returns it with the ids of products whose stock changed. */
export async function placeOrder(
  dbs: Databases,
  log: Logger,
  customer: number,
  cart: CartItem[],
): Promise<Order> {
  if (cart.length === 0) throw new HttpError(400, 'the cart is empty: POST /cart first');
  const target = dbs.forCustomer(customer);
  target.write.assertAvailable();
  const items = await reserveStock(dbs, cart);
  const totalCents = items.reduce((sum, i) => sum + i.quantity * i.priceCents, 0);
  try {
    return await target.write.transaction(async (tx) => {
      const result = await tx.exec('INSERT INTO orders (customer_id, total_cents) VALUES (?, ?)', [
        customer,
        totalCents,
      ]);
      const id = result.insertId;
      await tx.exec('INSERT INTO order_items (order_id, product_id, name, quantity, price_cents) VALUES ?', [
        items.map((i) => [id, i.productId, i.name, i.quantity, i.priceCents]),
      ]);
      const [row] = await tx.rows<{ createdAt: string }>(
        'SELECT created_at AS createdAt FROM orders WHERE id = ?',
        [id],
      );
      return { id, customer, shard: target.shard ?? null, totalCents, createdAt: row!.createdAt, items };
    });
  } catch (err) {
    await releaseStock(dbs, items).catch((releaseErr: unknown) =>
      log.error({ err: String(releaseErr), items }, 'could not give back the stock of a failed order'),
    );
    throw err;
  }
}

/**
 * Reads an order from the read URL of the customer's shard (its primary while that is down); null when it is not
 * there (yet: replicas lag).
 */
export async function getOrder(dbs: Databases, customer: number, id: number): Promise<Order | null> {
  const target = dbs.forCustomer(customer);
  return readOrder(target.read, target.shard, customer, id);
}

/** Reads an order of `customer` through `reader`, a database of `shard` (undefined: unsharded). */
export async function readOrder(
  reader: Reader,
  shard: number | undefined,
  customer: number,
  id: number,
): Promise<Order | null> {
  const [orders, items] = await Promise.all([
    reader.rows<{ id: number; customer: number; totalCents: number; createdAt: string }>(
      `SELECT id, customer_id AS customer, total_cents AS totalCents, created_at AS createdAt
         FROM orders WHERE id = ? AND customer_id = ?`,
      [id, customer],
    ),
    reader.rows<OrderItem>(
      `SELECT oi.product_id AS productId, oi.name, oi.quantity, oi.price_cents AS priceCents
         FROM order_items oi JOIN orders o ON o.id = oi.order_id
        WHERE oi.order_id = ? AND o.customer_id = ? ORDER BY oi.product_id`,
      [id, customer],
    ),
  ]);
  const order = orders[0];
  if (!order) return null;
  return {
    id: Number(order.id),
    customer: Number(order.customer),
    shard: shard ?? null,
    totalCents: Number(order.totalCents),
    createdAt: order.createdAt,
    items,
  };
}
