// Schema migrations that any number of pods may run at the same moment. On each primary (the main one and every
// shard's) a pod takes a named lock (GET_LOCK, held by its connection, released even if the pod dies), reads
// which migrations `schema_migrations` records, applies the missing ones and records them. The DDL is idempotent
// as well (IF NOT EXISTS, INSERT IGNORE), so even a migration interrupted between its DDL and its record is safe
// to run again. SQL that MySQL 8 and MariaDB both accept.
import type { Database, Session } from './db.js';

export interface Migration {
  id: string;
  statements: string[];
  /**
   * Errors (errno) that mean a statement's work is already done, for DDL that MySQL cannot say IF NOT EXISTS
   * about (ADD COLUMN, ADD KEY): a migration interrupted before its record is safe to run again.
   */
  done?: number[];
}

/** ER_DUP_FIELDNAME, ER_DUP_KEYNAME. */
const ALREADY_ADDED = [1060, 1061];

export const SEED_CATEGORIES = ['tea', 'coffee', 'cups', 'kettles'] as const;
export const SEED_PRODUCTS_PER_CATEGORY = 6;
export const SEED_PRODUCT_COUNT = SEED_CATEGORIES.length * SEED_PRODUCTS_PER_CATEGORY;

const ADJECTIVES = ['Classic', 'Smoky', 'Bright', 'Mellow', 'Bold', 'Gentle'];
const REVIEWERS = ['ada', 'grace', 'linus', 'barbara', 'ken', 'margaret'];

/** Catalog tables, on the main database. */
export const CATALOG_MIGRATIONS: Migration[] = [
  {
    id: '001-catalog',
    statements: [
      `CREATE TABLE IF NOT EXISTS products (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        sku VARCHAR(32) NOT NULL,
        name VARCHAR(200) NOT NULL,
        description TEXT NOT NULL,
        category VARCHAR(64) NOT NULL,
        UNIQUE KEY products_sku (sku),
        KEY products_category (category, id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
      `CREATE TABLE IF NOT EXISTS inventory (
        product_id INT UNSIGNED NOT NULL PRIMARY KEY,
        price_cents INT UNSIGNED NOT NULL,
        stock INT UNSIGNED NOT NULL,
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
      `CREATE TABLE IF NOT EXISTS reviews (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        product_id INT UNSIGNED NOT NULL,
        author VARCHAR(100) NOT NULL,
        rating TINYINT UNSIGNED NOT NULL,
        body TEXT NOT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        KEY reviews_product (product_id, id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
    ],
  },
  { id: '002-catalog-seed', statements: seedStatements() },
];

/**
 * Orders, on every primary: the shard map names which group (the main database or a shard) holds each bucket of
 * customers, and the operator moves buckets between them. Both tables are sharded tables of the operator's
 * resharding contract: every row carries the bucket of its customer in `shard_bucket`.
 */
export const ORDER_MIGRATIONS: Migration[] = [
  {
    id: '101-orders',
    statements: [
      `CREATE TABLE IF NOT EXISTS orders (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        customer_id BIGINT UNSIGNED NOT NULL,
        total_cents BIGINT UNSIGNED NOT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        shard_bucket SMALLINT UNSIGNED NULL,
        KEY orders_customer (customer_id, id),
        KEY orders_shard_bucket (shard_bucket)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
      `CREATE TABLE IF NOT EXISTS order_items (
        order_id BIGINT UNSIGNED NOT NULL,
        product_id INT UNSIGNED NOT NULL,
        name VARCHAR(200) NOT NULL,
        quantity INT UNSIGNED NOT NULL,
        price_cents INT UNSIGNED NOT NULL,
        shard_bucket SMALLINT UNSIGNED NULL,
        PRIMARY KEY (order_id, product_id),
        KEY order_items_shard_bucket (shard_bucket)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
    ],
  },
  {
    // Tables created before shard_bucket (new installs have it from 101). Rows written before it are filled in
    // at start (backfill.ts); it stays NULL-able so that a pod of the previous version can still write.
    id: '102-shard-bucket',
    statements: [
      'ALTER TABLE orders ADD COLUMN shard_bucket SMALLINT UNSIGNED NULL',
      'ALTER TABLE orders ADD KEY orders_shard_bucket (shard_bucket)',
      'ALTER TABLE order_items ADD COLUMN shard_bucket SMALLINT UNSIGNED NULL',
      'ALTER TABLE order_items ADD KEY order_items_shard_bucket (shard_bucket)',
    ],
    done: ALREADY_ADDED,
  },
];

/** A small, deterministic catalog: products, their inventory and two reviews each. */
function seedStatements(): string[] {
  const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;
  const products: string[] = [];
  const inventory: string[] = [];
  const reviews: string[] = [];
  let id = 0;
  for (const category of SEED_CATEGORIES) {
    for (let i = 0; i < SEED_PRODUCTS_PER_CATEGORY; i++) {
      id++;
      const name = `${ADJECTIVES[i]} ${category.replace(/s$/, '')}`;
      products.push(
        `(${id}, ${quote(`${category.slice(0, 3).toUpperCase()}-${100 + i}`)}, ${quote(name)}, ` +
          `${quote(`A ${name.toLowerCase()} from the example shop: ${category}, item ${i + 1}.`)}, ${quote(category)})`,
      );
      inventory.push(`(${id}, ${499 + ((id * 137) % 40) * 50}, ${20 + ((id * 7) % 30)})`);
      for (let r = 0; r < 2; r++) {
        const author = REVIEWERS[(id + r) % REVIEWERS.length]!;
        reviews.push(
          `(${reviews.length + 1}, ${id}, ${quote(author)}, ${3 + ((id + r) % 3)}, ${quote(`Review ${r + 1} of ${name}.`)})`,
        );
      }
    }
  }
  return [
    `INSERT IGNORE INTO products (id, sku, name, description, category) VALUES ${products.join(', ')}`,
    `INSERT IGNORE INTO inventory (product_id, price_cents, stock) VALUES ${inventory.join(', ')}`,
    `INSERT IGNORE INTO reviews (id, product_id, author, rating, body) VALUES ${reviews.join(', ')}`,
  ];
}

const LOCK_TIMEOUT_SECONDS = 30;

/**
 * Applies the missing migrations on one primary under its migration lock. Returns the ids it applied (empty
 * when another pod had already done the work).
 */
export async function migrate(db: Database, migrations: Migration[]): Promise<string[]> {
  const lock = `shop_migrate:${db.endpoint.database}`.slice(0, 64);
  return db.withConnection(async (session) => {
    const [row] = await session.rows<{ locked: number | null }>('SELECT GET_LOCK(?, ?) AS locked', [
      lock,
      LOCK_TIMEOUT_SECONDS,
    ]);
    if (row?.locked !== 1) {
      throw new Error(
        `${db.target}: could not take the migration lock ${lock} within ${LOCK_TIMEOUT_SECONDS} s`,
      );
    }
    try {
      return await applyMissing(session, migrations);
    } finally {
      await session.rows('SELECT RELEASE_LOCK(?)', [lock]).catch(() => {});
    }
  });
}

async function applyMissing(session: Session, migrations: Migration[]): Promise<string[]> {
  await session.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    id VARCHAR(100) NOT NULL PRIMARY KEY,
    applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
  const done = new Set(
    (await session.rows<{ id: string }>('SELECT id FROM schema_migrations')).map((r) => r.id),
  );
  const applied: string[] = [];
  for (const migration of migrations) {
    if (done.has(migration.id)) continue;
    for (const sql of migration.statements) {
      await session.exec(sql).catch((err: unknown) => {
        const errno = (err as { errno?: unknown }).errno;
        if (!migration.done?.includes(errno as number)) throw err;
      });
    }
    await session.exec('INSERT IGNORE INTO schema_migrations (id) VALUES (?)', [migration.id]);
    applied.push(migration.id);
  }
  return applied;
}
