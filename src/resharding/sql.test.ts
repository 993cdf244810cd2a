// The mover's statements against a fake client that records what it is sent and answers from a script, with
// the answers each engine gives (MySQL 8.4 and MariaDB differ in types and in information_schema, not in the
// statements: every statement is one both accept). The real-server proof is test/resharding/mover.svc.test.ts.
import { describe, expect, it } from '@jest/globals';
import { sqlClient } from '../replication/connect.js';
import type { Row, SqlClient } from '../replication/sql.js';
import {
  checksum,
  createMap,
  dbNow,
  deleteChunk,
  insertOwned,
  insertRows,
  isKeyConflict,
  openSession,
  readMap,
  rowDigests,
  selectAll,
  selectByKeys,
  deleteByKeys,
  setFence,
  shardedTables,
  showCreateTable,
  tableShape,
  unbucketedRows,
} from './sql.js';

type Answer = Row[] | ((params: unknown[]) => Row[]);

/** Answers each statement with the rows of the first pattern it matches (none: no rows); an Error is thrown. */
function fakeClient(answers: [RegExp, Answer | Error][] = []) {
  const sent: { sql: string; params: unknown[] }[] = [];
  const client: SqlClient = {
    async query(sql, params = []) {
      sent.push({ sql: sql.replace(/\s+/g, ' ').trim(), params });
      const answer = answers.find(([re]) => re.test(sql))?.[1];
      if (answer instanceof Error) throw answer;
      return typeof answer === 'function' ? answer(params) : (answer ?? []);
    },
  };
  return { client, sent, statements: () => sent.map((s) => s.sql) };
}

const coded = (code: string, message = code) => Object.assign(new Error(message), { code });

/** Syntax one of the two engines refuses. */
const NOT_PORTABLE = [/FOR SHARE/, /\bRETURNING\b/, /\bAS new\b/, /WITH\s+\w+\s+AS\s*\(/, /->>/];

const ENGINES = {
  // MySQL: upper-case information_schema names unless aliased, GENERATION_EXPRESSION '' for stored columns,
  // big unsigned aggregates as strings (supportBigNumbers), the 0900 collation in SHOW CREATE TABLE.
  mysql: {
    createTable:
      'CREATE TABLE `orders` (\n  `id` bigint NOT NULL AUTO_INCREMENT,\n  `shard_bucket` smallint unsigned NOT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB AUTO_INCREMENT=301 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci',
    checksum: { n: 3, x: '18446744073709551615', s: '9999999999' },
  },
  mariadb: {
    createTable:
      'CREATE TABLE `orders` (\n  `id` bigint(20) NOT NULL AUTO_INCREMENT,\n  `shard_bucket` smallint(5) unsigned NOT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB AUTO_INCREMENT=301 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci',
    checksum: { n: 3, x: 4_000_000_000, s: '9999999999' },
  },
};

describe.each(Object.entries(ENGINES))('%s', (_engine, answers) => {
  it('the session: the app database, UTC, ids of 0 kept, no foreign key checks', async () => {
    const { client, statements } = fakeClient();
    await openSession(client, 'shop`db');
    expect(statements()).toEqual([
      'USE `shop``db`',
      "SET SESSION time_zone = '+00:00', sql_mode = 'NO_AUTO_VALUE_ON_ZERO', foreign_key_checks = 0",
    ]);
  });

  it("the server's clock in epoch ms, from the decimal the server returns", async () => {
    const { client } = fakeClient([[/NOW\(3\)/, [{ now: '1764583200123' }]]]);
    expect(await dbNow(client)).toBe(1_764_583_200_123);
  });

  it('SHOW CREATE TABLE without the AUTO_INCREMENT counter, the rest as the server wrote it', async () => {
    const { client } = fakeClient([
      [/SHOW CREATE TABLE/, [{ Table: 'orders', 'Create Table': answers.createTable }]],
    ]);
    const ddl = await showCreateTable(client, 'orders');
    expect(ddl).not.toMatch(/AUTO_INCREMENT=/);
    expect(ddl).toMatch(/`id` bigint(\(20\))? NOT NULL AUTO_INCREMENT/);
    expect(ddl).toMatch(/DEFAULT CHARSET=utf8mb4/);
  });

  it('the checksum: count, BIT_XOR and SUM of CRC32 over every column with its NULL flag, as text', async () => {
    const { client, sent } = fakeClient([[/COUNT\(\*\)/, [answers.checksum]]]);
    const shape = {
      columns: [
        { name: 'id', type: 'bigint' },
        { name: 'note', type: 'varchar' },
      ],
      key: ['id'],
    };
    const sum = await checksum(client, 'orders', shape, [5, 9]);
    expect(sum).toEqual({ rows: 3, xor: String(answers.checksum.x), sum: '9999999999' });
    expect(sent[0]!.sql).toBe(
      "SELECT COUNT(*) AS n, COALESCE(BIT_XOR(CRC32(CONCAT_WS('#', ISNULL(`id`), CAST(`id` AS BINARY), ISNULL(`note`), CAST(`note` AS BINARY)))), 0) AS x, COALESCE(SUM(CRC32(CONCAT_WS('#', ISNULL(`id`), CAST(`id` AS BINARY), ISNULL(`note`), CAST(`note` AS BINARY)))), 0) AS s FROM `orders` WHERE `shard_bucket` IN (?, ?)",
    );
    expect(sent[0]!.params).toEqual([5, 9]);
  });
});

describe('the map', () => {
  it('reads the row, locked when asked; a missing table is no map, other errors are errors', async () => {
    const row = { version: 3, owners: '0', moving: '', progress: '' };
    const { client, statements } = fakeClient([[/_sapp_shard_map/, [row]]]);
    expect(await readMap(client)).toEqual(row);
    expect(await readMap(client, true)).toEqual(row);
    expect(statements()).toEqual([
      'SELECT version, owners, moving, progress FROM `_sapp_shard_map` WHERE id = 1',
      'SELECT version, owners, moving, progress FROM `_sapp_shard_map` WHERE id = 1 FOR UPDATE',
    ]);
    expect(await readMap(fakeClient([[/./, coded('ER_NO_SUCH_TABLE')]]).client)).toBeUndefined();
    await expect(readMap(fakeClient([[/./, coded('ER_ACCESS_DENIED_ERROR')]]).client)).rejects.toThrow();
  });

  it('is created with its row under another name and renamed, so apps never see the table empty', async () => {
    const { client, sent, statements } = fakeClient();
    await createMap(client, { version: 1, owners: '0,1', moving: '', progress: '' });
    expect(statements().map((s) => s.split(' (')[0])).toEqual([
      'DROP TABLE IF EXISTS `_sapp_shard_map_new`',
      'CREATE TABLE IF NOT EXISTS `_sapp_shard_map_new`',
      'INSERT INTO `_sapp_shard_map_new`',
      'RENAME TABLE `_sapp_shard_map_new` TO `_sapp_shard_map`',
    ]);
    expect(sent[2]!.params).toEqual([1, '0,1', '', '']);
  });

  it('a map another pass created first stands: the staging table is dropped, no error', async () => {
    const { client, statements } = fakeClient([[/RENAME/, coded('ER_TABLE_EXISTS_ERROR')]]);
    await createMap(client, { version: 1, owners: '0', moving: '', progress: '' });
    expect(statements().at(-1)).toBe('DROP TABLE IF EXISTS `_sapp_shard_map_new`');
  });
});

describe('the fence', () => {
  it('sets states with one upsert (the exclusive row locks wait for writes that passed the check)', async () => {
    const { client, sent } = fakeClient();
    await setFence(client, [3, 4], 'moving');
    expect(sent[0]!.sql).toBe(
      'INSERT INTO `_sapp_shard_buckets` (bucket, state) VALUES (?, ?), (?, ?) ON DUPLICATE KEY UPDATE state = ?',
    );
    expect(sent[0]!.params).toEqual([3, 'moving', 4, 'moving', 'moving']);
  });

  it('adds owned rows only where none exist; no statement for no buckets', async () => {
    const { client, sent } = fakeClient();
    await insertOwned(client, []);
    await insertOwned(client, [1, 2]);
    expect(sent).toEqual([
      {
        sql: "INSERT IGNORE INTO `_sapp_shard_buckets` (bucket, state) VALUES (?, 'owned'), (?, 'owned')",
        params: [1, 2],
      },
    ]);
  });
});

describe('tables', () => {
  it('sharded tables: base tables with shard_bucket, not the operator’s', async () => {
    const { client, sent } = fakeClient([
      [/information_schema.TABLES/, [{ name: 'orders' }, { name: 'items' }]],
    ]);
    expect(await shardedTables(client, 'shop')).toEqual(['orders', 'items']);
    expect(sent[0]!.params).toEqual(['shop', 'shard_bucket', 6, '_sapp_']);
    expect(sent[0]!.sql).toMatch(/TABLE_TYPE = 'BASE TABLE'/);
    expect(sent[0]!.sql).not.toMatch(/IS_NULLABLE/);
  });

  it('rows without a bucket: only tables whose column accepts NULL, counted up to a cap by the index', async () => {
    const { client, sent } = fakeClient([
      [/information_schema.TABLES/, [{ name: 'orders' }]],
      [/IS NULL/, [{ n: 7 }]],
    ]);
    expect(await shardedTables(client, 'shop', true)).toEqual(['orders']);
    expect(sent[0]!.sql).toMatch(/AND c.IS_NULLABLE = 'YES'/);
    expect(await unbucketedRows(client, 'orders', 10_000)).toBe(7);
    expect(sent[1]!.sql).toBe(
      'SELECT COUNT(*) AS n FROM (SELECT 1 FROM `orders` WHERE `shard_bucket` IS NULL LIMIT 10000) AS unbucketed',
    );
  });

  it('the shape: stored columns only (generated: MySQL says in GENERATION_EXPRESSION, MariaDB too, or NULL)', async () => {
    const { client, sent } = fakeClient([
      [
        /information_schema.COLUMNS/,
        [
          { name: 'id', type: 'bigint' },
          { name: 'total', type: 'decimal' },
        ],
      ],
      [/STATISTICS/, [{ name: 'id' }]],
    ]);
    expect(await tableShape(client, 'shop', 'orders')).toEqual({
      columns: [
        { name: 'id', type: 'bigint' },
        { name: 'total', type: 'decimal' },
      ],
      key: ['id'],
    });
    expect(sent[0]!.sql).toMatch(/COALESCE\(GENERATION_EXPRESSION, ''\) = ''/);
  });

  it('refuses a spatial column, naming it', async () => {
    const { client } = fakeClient([[/information_schema.COLUMNS/, [{ name: 'spot', type: 'point' }]]]);
    await expect(tableShape(client, 'shop', 'stores')).rejects.toThrow('table stores: column spot is point');
  });
});

describe('copy and delete', () => {
  const shape = {
    columns: [
      { name: 'id', type: 'bigint' },
      { name: 'total', type: 'decimal' },
      { name: 'at', type: 'datetime' },
      { name: 'doc', type: 'json' },
      { name: 'shard_bucket', type: 'smallint' },
    ],
    key: ['id'],
  };

  it('reads every row digest of the batch in one unsorted statement: the key (exact types as text) and its CRC', async () => {
    const { client, sent } = fakeClient([[/_sapp_crc/, [{ id: 1300, _sapp_crc: 77 }]]]);
    const keyed = {
      columns: [
        { name: 'id', type: 'decimal' },
        { name: 'n', type: 'int' },
      ],
      key: ['id'],
    };
    expect(await rowDigests(client, 'orders', keyed, [7, 8])).toEqual([{ key: [1300], crc: '77' }]);
    expect(sent[0]!.sql).toBe(
      "SELECT CAST(src.`id` AS CHAR) AS `id`, CRC32(CONCAT_WS('#', ISNULL(src.`id`), CAST(src.`id` AS BINARY), ISNULL(src.`n`), CAST(src.`n` AS BINARY))) AS _sapp_crc FROM `orders` AS src WHERE src.`shard_bucket` IN (?, ?)",
    );
    expect(sent[0]!.sql).not.toMatch(/ORDER BY/);
  });

  it('reads and deletes rows by key, a composite key by row value; no keys, no statement', async () => {
    const { client, sent } = fakeClient();
    const keyed = {
      columns: [
        { name: 'a', type: 'int' },
        { name: 'b', type: 'datetime' },
      ],
      key: ['a', 'b'],
    };
    const keys = [
      [1, '2026-01-01 00:00:00'],
      [2, '2026-01-02 00:00:00'],
    ];
    await selectByKeys(client, 'tags', keyed, keys);
    await deleteByKeys(client, 'tags', keyed, keys);
    await selectByKeys(client, 'tags', keyed, []);
    await deleteByKeys(client, 'tags', keyed, []);
    expect(sent).toEqual([
      {
        sql: 'SELECT src.`a`, CAST(src.`b` AS CHAR) AS `b` FROM `tags` AS src WHERE (src.`a`, src.`b`) IN ((?, ?), (?, ?))',
        params: keys.flat(),
      },
      { sql: 'DELETE FROM `tags` WHERE (`a`, `b`) IN ((?, ?), (?, ?))', params: keys.flat() },
    ]);
  });

  it('a table without a primary key is read whole', async () => {
    const { client, sent } = fakeClient();
    const noKey = { columns: [{ name: 'shard_bucket', type: 'smallint' }], key: [] };
    await selectAll(client, 'log', noKey, [1, 2]);
    expect(sent[0]!.sql).toBe(
      'SELECT src.`shard_bucket` FROM `log` AS src WHERE src.`shard_bucket` IN (?, ?)',
    );
  });

  it('inserts rows in one multi-row INSERT, values in column order', async () => {
    const { client, sent } = fakeClient();
    await insertRows(client, 'orders', shape, [
      { id: 1, total: '9.50', at: '2026-01-01 00:00:00.123', doc: '{}', shard_bucket: 7 },
      { id: 101, total: null, at: null, doc: null, shard_bucket: 7 },
    ]);
    expect(sent[0]!.sql).toBe(
      'INSERT INTO `orders` (`id`, `total`, `at`, `doc`, `shard_bucket`) VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)',
    );
    expect(sent[0]!.params).toEqual([
      1,
      '9.50',
      '2026-01-01 00:00:00.123',
      '{}',
      7,
      101,
      null,
      null,
      null,
      7,
    ]);
  });

  it('deletes a chunk and reads how many rows went with ROW_COUNT() (the client returns no OK packet)', async () => {
    const { client, statements } = fakeClient([[/ROW_COUNT/, [{ n: 1000 }]]]);
    expect(await deleteChunk(client, 'orders', [7, 8], 1000)).toBe(1000);
    expect(statements()).toEqual([
      'DELETE FROM `orders` WHERE `shard_bucket` IN (?, ?) LIMIT 1000',
      'SELECT ROW_COUNT() AS n',
    ]);
  });

  it('a duplicate key from the real client is a key conflict; other errors are not', async () => {
    const failing = (code: string) =>
      sqlClient(
        {
          query: () => Promise.reject(coded(code, "Duplicate entry '101' for key 'PRIMARY'")),
          end: async () => {},
          destroy: () => {},
        },
        1000,
      );
    const err = await insertRows(failing('ER_DUP_ENTRY'), 'orders', shape, [{ id: 101 }]).catch((e) => e);
    expect(isKeyConflict(err)).toBe(true);
    expect(
      isKeyConflict(
        await insertRows(failing('ER_LOCK_DEADLOCK'), 'orders', shape, [{ id: 1 }]).catch((e) => e),
      ),
    ).toBe(false);
  });
});

describe('portability', () => {
  it('no statement uses syntax only one engine accepts', async () => {
    const { client, statements } = fakeClient([
      [/SHOW CREATE/, [{ 'Create Table': ENGINES.mysql.createTable }]],
    ]);
    await openSession(client, 'shop');
    await readMap(client, true);
    await createMap(client, { version: 1, owners: '0', moving: '', progress: '' });
    await setFence(client, [1], 'owned');
    await shardedTables(client, 'shop');
    await tableShape(client, 'shop', 'orders');
    await showCreateTable(client, 'orders');
    const keyed = { columns: [{ name: 'id', type: 'int' }], key: ['id'] };
    await rowDigests(client, 'orders', keyed, [1]);
    await selectByKeys(client, 'orders', keyed, [[1]]);
    await deleteByKeys(client, 'orders', keyed, [[1]]);
    await deleteChunk(client, 'orders', [1], 10);
    for (const sql of statements())
      for (const re of NOT_PORTABLE) expect([sql, re.test(sql)]).toEqual([sql, false]);
  });
});
