// Orders: written to the group that owns the customer's bucket in the shard map (a shard, or the main database)
// and read back from that group's read URL (routing.ts). Stock lives with the catalog on the main primary, so
// placing an order is two steps on two databases: reserve the stock (one transaction on the main primary,
// authoritative prices), then write the order (one transaction on the owner, behind the bucket's fence). If the
// second step fails (the owner is down, or the bucket stayed in a move past the deadline) the reservation is given
// back. An order whose owner's primary is known to be down fails at once (an Unavailable naming it: a 503)
// without touching the stock; orders of the other groups go on. Order ids are unique across groups (the operator
// gives each group its own auto-increment offset) but neither dense nor in time order.
import type { Logger } from 'pino';
import type { Databases, Reader } from './db.js';
import { HttpError } from './http.js';
import type { OrderRouter } from './routing.js';
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
  /** The shard that holds the order; null for the main database. */
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

/** Places an order for `customer` from `cart`. */
export async function placeOrder(
  dbs: Databases,
  router: OrderRouter,
  log: Logger,
  customer: number,
  cart: CartItem[],
): Promise<Order> {
  if (cart.length === 0) throw new HttpError(400, 'the cart is empty: POST /cart first');
  (await router.target(customer)).write.assertAvailable();
  const items = await reserveStock(dbs, cart);
  const totalCents = items.reduce((sum, i) => sum + i.quantity * i.priceCents, 0);
  try {
    return await router.write(customer, async (tx, target) => {
      const result = await tx.exec(
        'INSERT INTO orders (customer_id, total_cents, shard_bucket) VALUES (?, ?, ?)',
        [customer, totalCents, target.bucket],
      );
      const id = result.insertId;
      await tx.exec(
        'INSERT INTO order_items (order_id, product_id, name, quantity, price_cents, shard_bucket) VALUES ?',
        [items.map((i) => [id, i.productId, i.name, i.quantity, i.priceCents, target.bucket])],
      );
      const [row] = await tx.rows<{ createdAt: string }>(
        'SELECT created_at AS createdAt FROM orders WHERE id = ?',
        [id],
      );
      return { id, customer, shard: target.shard, totalCents, createdAt: row!.createdAt, items };
    });
  } catch (err) {
    await releaseStock(dbs, items).catch((releaseErr: unknown) =>
      log.error({ err: String(releaseErr), items }, 'could not give back the stock of a failed order'),
    );
    throw err;
  }
}

/**
 * Reads an order from the read URL of the group that owns the customer (its primary while that is down); null
 * when it is not there (yet: replicas lag).
 */
export async function getOrder(router: OrderRouter, customer: number, id: number): Promise<Order | null> {
  const target = await router.target(customer);
  return readOrder(target.read, target.shard, customer, id);
}

/** Reads an order of `customer` through `reader`, a database of `shard` (null: the main database). */
export async function readOrder(
  reader: Reader,
  shard: number | null,
  customer: number,
  id: number,
): Promise<Order | null> {
  const [orders, items] = await Promise.all([
    reader.rows<OrderRow>(`${ORDER_COLUMNS} WHERE id = ? AND customer_id = ?`, [id, customer]),
    reader.rows<OrderItem>(
      `SELECT oi.product_id AS productId, oi.name, oi.quantity, oi.price_cents AS priceCents
         FROM order_items oi JOIN orders o ON o.id = oi.order_id
        WHERE oi.order_id = ? AND o.customer_id = ? ORDER BY oi.product_id`,
      [id, customer],
    ),
  ]);
  const order = orders[0];
  return order ? toOrder(order, shard, items) : null;
}

/** The most orders GET /orders?customer= lists. */
export const LIST_LIMIT = 1_000;

/** The customer's orders (oldest first, at most LIST_LIMIT), from the owner's read URL. */
export async function listOrders(
  router: OrderRouter,
  customer: number,
): Promise<{ shard: number | null; orders: Order[] }> {
  const { read, shard } = await router.target(customer);
  const [orders, items] = await Promise.all([
    read.rows<OrderRow>(`${ORDER_COLUMNS} WHERE customer_id = ? ORDER BY created_at, id LIMIT ?`, [
      customer,
      LIST_LIMIT,
    ]),
    read.rows<OrderItem & { orderId: number }>(
      `SELECT oi.order_id AS orderId, oi.product_id AS productId, oi.name, oi.quantity, oi.price_cents AS priceCents
         FROM order_items oi JOIN orders o ON o.id = oi.order_id
        WHERE o.customer_id = ? ORDER BY oi.order_id, oi.product_id`,
      [customer],
    ),
  ]);
  const itemsOf = new Map<number, OrderItem[]>();
  for (const { orderId, ...item } of items) {
    itemsOf.set(Number(orderId), [...(itemsOf.get(Number(orderId)) ?? []), item]);
  }
  return { shard, orders: orders.map((o) => toOrder(o, shard, itemsOf.get(Number(o.id)) ?? [])) };
}

interface OrderRow {
  id: number;
  customer: number;
  totalCents: number;
  createdAt: string;
}

const ORDER_COLUMNS = `SELECT id, customer_id AS customer, total_cents AS totalCents, created_at AS createdAt
  FROM orders`;

const toOrder = (row: OrderRow, shard: number | null, items: OrderItem[]): Order => ({
  id: Number(row.id),
  customer: Number(row.customer),
  shard,
  totalCents: Number(row.totalCents),
  createdAt: row.createdAt,
  items,
});
