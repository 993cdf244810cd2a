// Sessions in Redis, so that any pod can serve any user and a restarted pod forgets nothing. The cookie holds
// only a random id (256 bits from the crypto source); the session is a Redis hash:
//   customer    -> the customer id, once known
//   item:<id>   -> quantity in the cart (HINCRBY: concurrent adds from two pods both count)
// Every use pushes the expiry forward (sliding expiry). Without Redis there is no session: every call then fails
// within a second with an Unavailable naming `redis` (a 503), whether Redis refuses or hangs.
import { randomBytes } from 'node:crypto';
import { deadline, isUnavailable, Unavailable } from './availability.js';
import type { RedisClient } from './redis.js';

export const SESSION_COOKIE = 'shop_sid';
const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/; // 32 bytes, base64url

/** Decrements each item field by its ordered quantity and drops fields that reach zero. */
const REMOVE_ITEMS = `
for i = 1, #ARGV, 2 do
  local left = redis.call('HINCRBY', KEYS[1], ARGV[i], -tonumber(ARGV[i + 1]))
  if left <= 0 then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return 1`;

export interface CartItem {
  productId: number;
  quantity: number;
}

export interface SessionData {
  id: string;
  customer: number | undefined;
  cart: CartItem[];
}

export class Sessions {
  constructor(
    private readonly redis: RedisClient,
    private readonly ttlSeconds = 7 * 24 * 3600,
    private readonly timeoutMs = 1_000,
  ) {}

  private key = (id: string) => `shop:session:${id}`;

  /** A Redis call within the time limit; an outage becomes an Unavailable naming `redis`. */
  private async call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await deadline(run(), this.timeoutMs, 'redis');
    } catch (err) {
      if (err instanceof Unavailable || !isUnavailable(err)) throw err;
      throw new Unavailable('redis', err instanceof Error ? err.message : String(err), { cause: err });
    }
  }

  /** The session a request's cookie names, if the id is well formed and the session exists. */
  async load(cookieValue: string | undefined): Promise<SessionData | undefined> {
    if (!cookieValue || !ID_PATTERN.test(cookieValue)) return undefined;
    const key = this.key(cookieValue);
    const [hash] = (await this.call(() =>
      this.redis.multi().hGetAll(key).expire(key, this.ttlSeconds).exec(),
    )) as unknown as [Record<string, string>];
    if (!hash || Object.keys(hash).length === 0) return undefined;
    const cart: CartItem[] = [];
    for (const [field, value] of Object.entries(hash)) {
      const quantity = Number(value);
      if (field.startsWith('item:') && quantity > 0)
        cart.push({ productId: Number(field.slice(5)), quantity });
    }
    cart.sort((a, b) => a.productId - b.productId);
    const customer = hash.customer ? Number(hash.customer) : undefined;
    return { id: cookieValue, customer, cart };
  }

  /**
   * A new session with a fresh id. Ids the client invents are never adopted (`load` returns undefined for
   * them), so a session cannot be fixed by an attacker.
   */
  async create(): Promise<SessionData> {
    const id = randomBytes(32).toString('base64url');
    const key = this.key(id);
    await this.call(() =>
      this.redis.multi().hSet(key, 'created', new Date().toISOString()).expire(key, this.ttlSeconds).exec(),
    );
    return { id, customer: undefined, cart: [] };
  }

  async addItem(id: string, productId: number, quantity: number): Promise<void> {
    const key = this.key(id);
    await this.call(() =>
      this.redis.multi().hIncrBy(key, `item:${productId}`, quantity).expire(key, this.ttlSeconds).exec(),
    );
  }

  async setCustomer(id: string, customer: number): Promise<void> {
    const key = this.key(id);
    await this.call(() =>
      this.redis.multi().hSet(key, 'customer', String(customer)).expire(key, this.ttlSeconds).exec(),
    );
  }

  /** Takes ordered quantities out of the cart, atomically; items added meanwhile stay. */
  async removeItems(id: string, items: CartItem[]): Promise<void> {
    if (items.length === 0) return;
    await this.call(() =>
      this.redis.eval(REMOVE_ITEMS, {
        keys: [this.key(id)],
        arguments: items.flatMap((item) => [`item:${item.productId}`, String(item.quantity)]),
      }),
    );
  }

  cookie(id: string): string {
    return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${this.ttlSeconds}`;
  }
}
