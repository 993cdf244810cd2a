// Benchmark (not a test): the resharding mover's write pause against the rows a batch holds. A main database
// with N items (and N tags: two sharded tables) moves to one shard (0 → 1) in batches of B buckets, nobody
// writing; each batch prints its rows and its write pause (map pause to flip, which holds the copy and verify).
// Run: node --import tsx bench/resharding-copy.ts [rows=50000] [batchBuckets=128]
import { bucketForKey } from '../src/api/sharding.js';
import { reshardPass, type Topology } from '../src/resharding/pass.js';
import { type MariaDBServer, startMariaDB } from '../test/services/mariadb.js';
import { APP_SCHEMA } from '../test/resharding/cluster.js';

const rows = Number(process.argv[2] ?? 50_000);
const batchBuckets = Number(process.argv[3] ?? 128);
const config = (id: number, offset: number) =>
  `[mariadbd]\nserver-id=${id}\nlog-bin=mysql-bin\nbinlog-format=ROW\nauto-increment-increment=100\nauto-increment-offset=${offset}\n`;

const [main, shard] = await Promise.all([
  startMariaDB({ name: 'bench-main', configFiles: [config(1, 1)] }),
  startMariaDB({ name: 'bench-shard', configFiles: [config(2, 2)] }),
]);
const at = (s: MariaDBServer) => ({ primary: { host: '127.0.0.1', port: s.port }, replicas: [] });
try {
  for (const s of [main, shard]) {
    s.execScript(
      "CREATE USER 'app'@'%' IDENTIFIED BY 'pw'; GRANT ALL ON `rs\\_%`.* TO 'app'@'%'; CREATE DATABASE rs_bench;",
    );
  }
  main.execScript(APP_SCHEMA, 'rs_bench');
  const conn = await main.root('rs_bench');
  for (let i = 0; i < rows; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, rows - i) }, (_, j) => {
      const k = `k${i + j}`;
      return [k, bucketForKey(k), '12.34', Math.random(), '2026-01-01 00:00:00.123456', '{"a":1}', 'note'];
    });
    await conn.query('INSERT INTO items (k, shard_bucket, price, ratio, created, doc, note) VALUES ?', [
      batch,
    ]);
    await conn.query('INSERT INTO item_tags (item_k, tag, shard_bucket) VALUES ?', [
      batch.map((r) => [r[0], 'x', r[1]]),
    ]);
  }
  await conn.end();
  const topology: Topology = {
    engine: 'mariadb',
    database: 'rs_bench',
    user: 'app',
    password: 'pw',
    main: at(main),
    shards: [at(shard)],
  };
  const pauses: number[] = [];
  const started = Date.now();
  for (;;) {
    const r = await reshardPass(
      topology,
      { count: 1, batchBuckets, mapMaxAgeMs: 200, seedCount: 0 },
      {
        onBatch: (b) => {
          pauses.push(b.pauseMs);
          console.log(`batch of ${b.buckets.length} buckets: ${b.rows} rows, write pause ${b.pauseMs} ms`);
        },
      },
    );
    if (r.state === 'idle' || r.state === 'failed') {
      const sorted = [...pauses].sort((a, b) => a - b);
      console.log(
        `${r.state}: ${r.message}; ${2 * rows} rows in ${Date.now() - started} ms, pause median ${sorted[sorted.length >> 1]} ms, max ${sorted.at(-1)} ms`,
      );
      break;
    }
  }
} finally {
  await Promise.all([main.destroy(), shard.destroy()]);
}
