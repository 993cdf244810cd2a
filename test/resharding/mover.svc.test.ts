// The resharding mover on real MariaDB servers while an app writes and reads: 2 → 3 shards (a replica on the
// new shard, a second behind), 0 → 2, a key conflict, and a pass killed mid-move. Every case checks that each
// acknowledged row ends exactly once at its bucket's owner with the values written, that no moved row is left
// on a source, that the fences say `owned` for exactly each group's buckets, and that the reader never missed
// a row. The write pause of each batch is printed: the mover's (map pause to flip) and the longest a write to
// the batch's buckets took.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bucketForKey, shardMap } from '../../src/api/sharding.js';
import { targetOwners } from '../../src/resharding/map.js';
import {
  type BatchMoved,
  type PassDeps,
  type PassResult,
  reshardPass,
  type Target,
  type Topology,
} from '../../src/resharding/pass.js';
import { planResharding } from '../../src/resharding/plan.js';
import type { Batch, Progress } from '../../src/resharding/progress.js';
import type { MariaDBServer } from '../services/mariadb.js';
import { sleep } from '../services/ports.js';
import { AppClient, type Written } from './app-client.js';
import { type Cluster, createDatabase, endpoints, startCluster, topology } from './cluster.js';

const MAX_AGE_MS = 500;
const SEED_ROWS = 600;
const WRITERS = 3;
const REPO_ROOT = join(import.meta.dirname, '..', '..');

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster();
}, 90_000);

afterAll(async () => {
  await Promise.all((cluster?.all ?? []).map((s) => s.destroy()));
});

/** Seeds rows the way the app wrote them before the operator published a map (the static map). */
async function seed(app: AppClient, prefix: string, n: number): Promise<Written[]> {
  const keys = Array.from({ length: n }, (_, i) => `${prefix}-seed-${i}`);
  for (let i = 0; i < keys.length; i += 16) await Promise.all(keys.slice(i, i + 16).map((k) => app.write(k)));
  return keys.map((k) => app.acked.get(k)!);
}

function deps(batches: BatchMoved[], extra: PassDeps = {}): PassDeps {
  return { chunkRows: 50, verifyTimeoutMs: 20_000, onBatch: (b) => batches.push(b), ...extra };
}

/** Passes until the map is at the target (a pass may stop at its budget or wait for the drain). */
async function untilIdle(t: Topology, target: Target, d: PassDeps): Promise<PassResult[]> {
  const results: PassResult[] = [];
  for (let i = 0; i < 20; i++) {
    const r = await reshardPass(t, target, d);
    results.push(r);
    if (r.state === 'idle') return results;
    if (r.state === 'failed') throw new Error(`pass failed: ${r.message}`);
    await sleep(Math.min(r.retryAfterMs ?? 0, 2_000));
  }
  throw new Error(`not idle after 20 passes: ${JSON.stringify(results.at(-1))}`);
}

interface Group {
  owner: number;
  server: MariaDBServer;
}

/** The end state: every acknowledged row once, at its owner, as written; nothing left elsewhere; clean fences. */
async function checkEnd(database: string, groups: Group[], count: number, app: AppClient) {
  const owners = targetOwners(count);
  const seen = new Map<string, number>();
  for (const { owner, server } of groups) {
    const items = await server.query<Record<string, string | number | null>[]>(
      `SELECT k, shard_bucket AS bucket, price, CAST(ratio AS CHAR) AS ratio, CAST(created AS CHAR) AS created, LOWER(HEX(raw)) AS raw, note
         FROM \`${database}\`.items`,
    );
    for (const row of items) {
      const k = String(row.k);
      seen.set(k, (seen.get(k) ?? 0) + 1);
      expect([k, owners[Number(row.bucket)]]).toEqual([k, owner]);
      const w = app.acked.get(k);
      if (w) {
        expect({
          k,
          price: row.price,
          ratio: Number(row.ratio),
          created: row.created,
          raw: row.raw,
          note: row.note,
        }).toEqual({ k, price: w.price, ratio: w.ratio, created: w.created, raw: w.raw, note: w.note });
      }
    }
    const tags = await server.query<{ bucket: number; n: number }[]>(
      `SELECT shard_bucket AS bucket, COUNT(*) AS n FROM \`${database}\`.item_tags GROUP BY shard_bucket`,
    );
    for (const t of tags) expect([t.bucket, owners[t.bucket]]).toEqual([t.bucket, owner]);
    const fence = await server.query<{ bucket: number; state: string }[]>(
      `SELECT bucket, state FROM \`${database}\`._sapp_shard_buckets ORDER BY bucket`,
    );
    expect(fence.filter((f) => f.state !== 'owned')).toEqual([]);
    expect(fence.map((f) => f.bucket)).toEqual(owners.flatMap((o, b) => (o === owner ? [b] : [])));
  }
  const lost = [...app.acked.keys()].filter((k) => seen.get(k) !== 1);
  expect(lost).toEqual([]);
  const [map] = await groups[0]!.server.query<{ moving: string; progress: string; owners: string }[]>(
    `SELECT moving, progress, owners FROM \`${database}\`._sapp_shard_map WHERE id = 1`,
  );
  expect(map).toEqual({ moving: '', progress: '', owners: owners.join(',') });
}

function report(name: string, batches: BatchMoved[], app: AppClient, startedAt: number) {
  const lines = batches.map((b, i) => {
    const mine = new Set(b.buckets);
    const longest = Math.max(0, ...app.timings.filter((t) => mine.has(t.bucket)).map((t) => t.ms));
    return `  batch ${i}: ${b.buckets.length} buckets ${b.from} → ${b.to}, ${b.rows} rows, mover pause ${b.pauseMs} ms, longest write ${longest} ms`;
  });
  const slowest = Math.max(...app.timings.map((t) => t.ms));
  console.log(
    `${name}: ${batches.length} batches, ${batches.reduce((n, b) => n + (b.rows ?? 0), 0)} rows moved, ` +
      `${app.acked.size} rows acknowledged (${app.timings.length} writes, slowest ${slowest} ms), ` +
      `${app.readerChecks} reader checks, ${Date.now() - startedAt} ms\n${lines.join('\n')}`,
  );
  return slowest;
}

/**
 * A case: seeds rows with the static map, starts the writers and the reader, runs `move` (the passes), stops
 * the app, then checks the end state and that no write failed and the reader saw every row.
 */
async function withApp(
  name: string,
  t: Topology,
  staticCount: number,
  groups: Group[],
  move: (app: AppClient, batches: BatchMoved[]) => Promise<number>,
) {
  const app = new AppClient(t, staticCount, MAX_AGE_MS);
  const batches: BatchMoved[] = [];
  try {
    await seed(app, t.database, SEED_ROWS);
    app.startWriters(t.database, WRITERS);
    app.startReader([...app.acked.values()]);
    const started = Date.now();
    const count = await move(app, batches);
    await sleep(300);
    await app.stop();
    report(name, batches, app, started);
    expect(app.failures).toEqual([]);
    expect(app.violations).toEqual([]);
    expect(app.readerChecks).toBeGreaterThan(0);
    expect(batches.filter((b) => b.rows === undefined)).toEqual([]);
    await checkEnd(t.database, groups, count, app);
    return { app, batches };
  } finally {
    await app.close();
  }
}

const target = (count: number, batchBuckets: number, seedCount: number): Target => ({
  count,
  batchBuckets,
  mapMaxAgeMs: MAX_AGE_MS,
  seedCount,
});

describe('the mover under writes and reads', () => {
  it('moves 2 → 3 shards; verify waits for the new shard’s replica, behind by a second or two', async () => {
    const db = 'rs_grow';
    const [s0, s1, s2] = cluster.shards as [MariaDBServer, MariaDBServer, MariaDBServer];
    await createDatabase(cluster, db, [cluster.main, s0, s1]);
    await cluster.main.query(`INSERT INTO \`${db}\`.settings VALUES ('theme', 'dark')`);
    const t = topology(db, cluster.main, [endpoints(s0), endpoints(s1), endpoints(s2, [cluster.replica])]);
    const groups = [cluster.main, s0, s1, s2].map((server, i) => ({ owner: i - 1, server }));
    const { batches } = await withApp('2 → 3', t, 2, groups, async (_app, batches) => {
      const results = await untilIdle(t, target(3, 256, 2), deps(batches));
      expect(results.at(-1)).toMatchObject({ state: 'idle', movedBuckets: 341, totalBuckets: 341 });
      return 3;
    });
    const plan = planResharding(shardMap(2), 3, 256);
    expect(batches.map((b) => [b.from, b.to, b.buckets])).toEqual(plan.map((b) => [b.from, b.to, b.buckets]));
    // The copy reaches the replica a second or more after it committed, and the flip waited for it.
    for (const b of batches) expect(b.pauseMs).toBeGreaterThanOrEqual(1_000);
    expect(await cluster.main.query(`SELECT * FROM \`${db}\`.settings`)).toEqual([
      { name: 'theme', value: 'dark' },
    ]);
  }, 120_000);

  it('moves 0 → 2: every bucket off the main database, the table that is not sharded stays', async () => {
    const db = 'rs_seed';
    const [s0, s1] = cluster.shards as [MariaDBServer, MariaDBServer];
    await createDatabase(cluster, db, [cluster.main]);
    await cluster.main.query(`INSERT INTO \`${db}\`.settings VALUES ('theme', 'dark')`);
    const t = topology(db, cluster.main, [endpoints(s0), endpoints(s1)]);
    const groups = [cluster.main, s0, s1].map((server, i) => ({ owner: i - 1, server }));
    await withApp('0 → 2', t, 0, groups, async (_app, batches) => {
      // A write whose map predates the pause goes to the source: once the fence step is done, the source's
      // fence refuses it (checked as the app checks, right when the copy starts).
      let staleCheck: Promise<unknown> | undefined;
      const onStep = (p: Progress) => {
        if (p.step !== 'copy' || p.batch !== 0 || staleCheck) return;
        staleCheck = cluster.main.query(
          `SELECT state FROM \`${db}\`._sapp_shard_buckets WHERE bucket = ? LOCK IN SHARE MODE`,
          [p.current!.buckets[0]],
        );
      };
      const results = await untilIdle(t, target(2, 256, 0), deps(batches, { onStep }));
      // 'moved' only if the check ran after the flip (a very slow machine); 'owned' would let the write in.
      const [{ state }] = (await staleCheck) as [{ state: string }];
      expect(['moving', 'moved']).toContain(state);
      expect(results.at(-1)).toMatchObject({ state: 'idle', movedBuckets: 1024, totalBuckets: 1024 });
      expect(batches).toHaveLength(4);
      return 2;
    });
    expect(await cluster.main.query(`SELECT * FROM \`${db}\`.settings`)).toEqual([
      { name: 'theme', value: 'dark' },
    ]);
    expect(await s0.query(`SHOW TABLES FROM \`${db}\``)).toEqual([
      { [`Tables_in_${db}`]: '_sapp_shard_buckets' },
      { [`Tables_in_${db}`]: 'item_tags' },
      { [`Tables_in_${db}`]: 'items' },
    ]);
  }, 120_000);

  it('a key the destination already holds rolls the batch back, nothing lost; once removed, the move completes', async () => {
    const db = 'rs_conflict';
    const [s0, s1, s2] = cluster.shards as [MariaDBServer, MariaDBServer, MariaDBServer];
    await createDatabase(cluster, db, [cluster.main, s0, s1, s2]);
    const t = topology(db, cluster.main, [endpoints(s0), endpoints(s1), endpoints(s2)]);
    const groups = [cluster.main, s0, s1, s2].map((server, i) => ({ owner: i - 1, server }));
    const first = planResharding(shardMap(2), 3, 128)[0]!;
    await withApp('conflict', t, 2, groups, async (app, batches) => {
      // A row the new shard holds from before the key ranges, with the id of a row of the first batch.
      const [victim] = await s0.query<{ id: number }[]>(
        `SELECT id FROM \`${db}\`.items WHERE shard_bucket IN (?) LIMIT 1`,
        [first.buckets],
      );
      await s2.query(
        `INSERT INTO \`${db}\`.items (id, k, shard_bucket, created) VALUES (?, 'stray', 0, NOW())`,
        [victim!.id],
      );
      const failed = await reshardPass(t, target(3, 128, 2), deps(batches));
      expect(failed).toMatchObject({ state: 'failed', reason: 'KeyConflict', movedBuckets: 0 });
      expect(failed.message).toMatch(
        /KeyConflict: the batch of 128 buckets from shard 0 to shard 2 was rolled back.*table items/,
      );
      const [map] = await cluster.main.query<{ moving: string; progress: string }[]>(
        `SELECT moving, progress FROM \`${db}\`._sapp_shard_map`,
      );
      expect(map!.moving).toBe('');
      expect(JSON.parse(map!.progress)).toMatchObject({
        step: 'precopy',
        error: { reason: 'KeyConflict', table: 'items' },
      });
      expect(await s2.query(`SELECT k FROM \`${db}\`.items`)).toEqual([{ k: 'stray' }]);
      expect(await s2.query(`SELECT * FROM \`${db}\`._sapp_shard_buckets`)).toEqual([]);
      const fence = await s0.query<{ state: string }[]>(
        `SELECT DISTINCT state FROM \`${db}\`._sapp_shard_buckets WHERE bucket IN (?)`,
        [first.buckets],
      );
      expect(fence).toEqual([{ state: 'owned' }]);
      // Writes to the batch's buckets go on at once.
      const before = app.timings.length;
      await eventuallyWrites(app, first.buckets, before);
      // Retried before the interval: still failed, nothing done.
      expect(await reshardPass(t, target(3, 128, 2), deps(batches))).toMatchObject({
        state: 'failed',
        reason: 'KeyConflict',
      });
      await s2.query(`DELETE FROM \`${db}\`.items WHERE k = 'stray'`);
      const results = await untilIdle(t, target(3, 128, 2), deps(batches, { retryAfterMs: 0 }));
      expect(results.at(-1)).toMatchObject({ state: 'idle', movedBuckets: 341 });
      return 3;
    });
  }, 120_000);

  it('a pass killed (SIGKILL) mid-move is completed by the next pass, with the same guarantees', async () => {
    const db = 'rs_resume';
    const [s0, s1, s2] = cluster.shards as [MariaDBServer, MariaDBServer, MariaDBServer];
    await createDatabase(cluster, db, [cluster.main, s0, s1]);
    const t = topology(db, cluster.main, [endpoints(s0), endpoints(s1), endpoints(s2)]);
    const groups = [cluster.main, s0, s1, s2].map((server, i) => ({ owner: i - 1, server }));
    await withApp('killed and resumed', t, 2, groups, async (_app, batches) => {
      // Killed after batch 1's copy committed on the destination, before verify: its writes are paused, the
      // destination holds the copy under `incoming`.
      const killedAt = await runChildUntil(t, target(3, 128, 2), 'verify:1');
      expect(killedAt).toEqual({ step: 'verify', batch: 1 });
      const second = planResharding(shardMap(2), 3, 128)[1]!;
      const copied = await s2.query<{ n: number }[]>(
        `SELECT COUNT(*) AS n FROM \`${db}\`.items WHERE shard_bucket IN (?)`,
        [second.buckets],
      );
      expect(copied[0]!.n).toBeGreaterThan(0);
      const [map] = await cluster.main.query<{ moving: string; progress: string }[]>(
        `SELECT moving, progress FROM \`${db}\`._sapp_shard_map`,
      );
      expect(map!.moving).not.toBe('');
      expect(JSON.parse(map!.progress)).toMatchObject({ batch: 1, movedBuckets: 128 });
      // A copied row changed behind the mover's back: verify finds the batch different and copies it again.
      await s2.query(`UPDATE \`${db}\`.items SET note = 'changed' WHERE shard_bucket IN (?) LIMIT 1`, [
        second.buckets,
      ]);
      const steps: string[] = [];
      const onStep = (p: Progress) => steps.push(`${p.step}:${p.batch}`);
      const results = await untilIdle(t, target(3, 128, 2), deps(batches, { onStep }));
      expect(results.at(-1)).toMatchObject({ state: 'idle', movedBuckets: 341, totalBuckets: 341 });
      expect(steps.slice(0, 3)).toEqual(['copy:1', 'verify:1', 'flip:1']);
      expect(batches).toHaveLength(3);
      return 3;
    });
  }, 120_000);
});

describe('the pass as the controller sees it', () => {
  it('a new target between batches is planned from where the buckets are: 2 → 3 stopped after a batch, then back to 2', async () => {
    const db = 'rs_back';
    const [s0, s1, s2] = cluster.shards as [MariaDBServer, MariaDBServer, MariaDBServer];
    await createDatabase(cluster, db, [cluster.main, s0, s1]);
    const t = topology(db, cluster.main, [endpoints(s0), endpoints(s1), endpoints(s2)]);
    const groups = [cluster.main, s0, s1, s2].map((server, i) => ({ owner: i - 1, server }));
    await withApp('3 then back to 2', t, 2, groups, async (_app, batches) => {
      const first = await reshardPass(t, target(3, 512, 2), deps(batches, { budgetMs: 0 }));
      expect(first).toMatchObject({ state: 'moving', movedBuckets: 171, totalBuckets: 341 });
      const results = await untilIdle(t, target(2, 512, 2), deps(batches));
      // The 171 buckets shard 2 took go back to shard 0, whose moved rows were still there (and are replaced).
      expect(results.at(-1)).toMatchObject({ state: 'idle', movedBuckets: 342, totalBuckets: 342 });
      expect(batches.map((b) => [b.from, b.to, b.buckets.length])).toEqual([
        [0, 2, 171],
        [2, 0, 171],
      ]);
      return 2;
    });
  }, 120_000);

  it('a replica that does not catch up rolls the batch back (ReplicaLag); then moving at the budget, waiting in the drain', async () => {
    const db = 'rs_lag';
    const [s0, s1, s2] = cluster.shards as [MariaDBServer, MariaDBServer, MariaDBServer];
    await createDatabase(cluster, db, [cluster.main, s0, s1]);
    // The mover sees the replica for the batch that fails; the app (and the passes after) do not, so that the
    // rest of the case does not wait for the replica's delay.
    const t = topology(db, cluster.main, [endpoints(s0), endpoints(s1), endpoints(s2)]);
    const withReplica = topology(db, cluster.main, [
      endpoints(s0),
      endpoints(s1),
      endpoints(s2, [cluster.replica]),
    ]);
    const groups = [cluster.main, s0, s1, s2].map((server, i) => ({ owner: i - 1, server }));
    await withApp('replica lag', t, 2, groups, async (_app, batches) => {
      await cluster.replica.query('STOP SLAVE SQL_THREAD');
      let lagged: PassResult;
      try {
        lagged = await reshardPass(withReplica, target(3, 512, 2), deps(batches, { verifyTimeoutMs: 1_500 }));
      } finally {
        await cluster.replica.query('START SLAVE SQL_THREAD');
      }
      expect(lagged).toMatchObject({ state: 'failed', reason: 'ReplicaLag', movedBuckets: 0 });
      expect(lagged.message).toMatch(/shard 2 replica 127.0.0.1:\d+ did not match the copy within 1500 ms/);
      const again = { ...deps(batches), retryAfterMs: 0 };
      expect(await reshardPass(t, target(3, 512, 2), { ...again, budgetMs: 0 })).toMatchObject({
        state: 'moving',
        movedBuckets: 171,
        totalBuckets: 341,
        message: 'moving: 171 of 341 buckets moved, next 170 buckets from shard 1 to shard 2',
      });
      const waiting = await reshardPass(t, target(3, 512, 2), { ...again, maxWaitMs: 0 });
      expect(waiting).toMatchObject({ state: 'waiting', movedBuckets: 341 });
      expect(waiting.retryAfterMs).toBeLessThanOrEqual(2 * MAX_AGE_MS);
      const results = await untilIdle(t, target(3, 512, 2), again);
      expect(results.at(-1)).toMatchObject({ state: 'idle', movedBuckets: 341 });
      return 3;
    });
  }, 120_000);
});

describe('rows the app wrote without shard_bucket', () => {
  it('hold a batch (its source holds them) and the delete (on a source) until the app fills them; then every row once at its owner', async () => {
    const db = 'rs_null';
    const [s0, s1, s2] = cluster.shards as [MariaDBServer, MariaDBServer, MariaDBServer];
    await createDatabase(cluster, db, [cluster.main, s0, s1]);
    for (const s of [s0, s1]) {
      await s.query(`ALTER TABLE \`${db}\`.items MODIFY shard_bucket SMALLINT UNSIGNED NULL`);
    }
    const t = topology(db, cluster.main, [endpoints(s0), endpoints(s1), endpoints(s2)]);
    const groups = [cluster.main, s0, s1, s2].map((server, i) => ({ owner: i - 1, server }));
    const [first, second] = planResharding(shardMap(2), 3, 512) as [Batch, Batch];
    // Rows an app of an older version writes without the column: 3 of the first batch's buckets on shard 0
    // (during the first batch's precopy), and 2 of buckets shard 1 keeps (after the last flip).
    const oldRows = (prefix: string, n: number, fits: (bucket: number) => boolean) =>
      Array.from({ length: 400 }, (_, i) => `${db}-${prefix}-${i}`)
        .filter((k) => fits(bucketForKey(k)))
        .slice(0, n);
    const moving = oldRows('old', 3, (b) => first.buckets.includes(b));
    const staying = oldRows('late', 2, (b) => shardMap(2)[b] === 1 && !second.buckets.includes(b));
    const insertNull = (s: MariaDBServer, keys: string[]) =>
      s.execScript(
        `INSERT INTO items (k, shard_bucket, created) VALUES ${keys.map((k) => `('${k}', NULL, NOW())`).join(', ')}`,
        db,
      );
    const fill = (s: MariaDBServer, keys: string[]) =>
      Promise.all(
        keys.map((k) =>
          s.query(`UPDATE \`${db}\`.items SET shard_bucket = ? WHERE k = ?`, [bucketForKey(k), k]),
        ),
      );
    await withApp('unbucketed rows', t, 2, groups, async (_app, batches) => {
      // Written while the first batch's precopy ran: the check right before its pause sends it back to precopy.
      const steps: string[] = [];
      const onStep = (p: Progress) => {
        steps.push(`${p.step}:${p.batch}`);
        if (steps.join() === 'precopy:0,pause:0') insertNull(s0, moving);
      };
      const held = await reshardPass(t, target(3, 512, 2), deps(batches, { onStep }));
      expect(held).toMatchObject({ state: 'waiting', reason: 'UnbucketedRows', movedBuckets: 0 });
      expect(held.message).toMatch(
        /^table items on shard 0 holds 3 rows with shard_bucket NULL: the app must fill shard_bucket .*; no bucket moves off shard 0 until none is left$/,
      );
      expect(steps).toEqual(['precopy:0', 'pause:0', 'precopy:0']);
      // The next pass waits at the precopy: no copy, no pause.
      const again = await reshardPass(t, target(3, 512, 2), deps(batches, { onStep }));
      expect(again).toMatchObject({ state: 'waiting', reason: 'UnbucketedRows', message: held.message });
      expect(steps).toEqual(['precopy:0', 'pause:0', 'precopy:0']);
      const [map] = await cluster.main.query<{ moving: string; progress: string }[]>(
        `SELECT moving, progress FROM \`${db}\`._sapp_shard_map`,
      );
      expect(map!.moving).toBe('');
      expect(JSON.parse(map!.progress)).toMatchObject({ step: 'precopy', batch: 0 });
      await fill(s0, moving);
      // Both batches, up to the drain (passes that do not wait: the hold before the first batch ends one).
      let drained: PassResult | undefined;
      for (let i = 0; i < 10 && drained?.movedBuckets !== 341; i++) {
        drained = await reshardPass(t, target(3, 512, 2), deps(batches, { maxWaitMs: 0 }));
        expect(drained.state).toBe('waiting');
        await sleep(Math.min(drained.retryAfterMs ?? 0, 500));
      }
      expect(drained?.message).toMatch(/^draining/);
      insertNull(s1, staying);
      await sleep(2 * MAX_AGE_MS);
      const kept = await reshardPass(t, target(3, 512, 2), deps(batches));
      expect(kept).toMatchObject({ state: 'waiting', reason: 'UnbucketedRows', movedBuckets: 341 });
      expect(kept.message).toMatch(/table items on shard 1 holds 2 rows with shard_bucket NULL/);
      const [left] = await s1.query<{ n: number }[]>(
        `SELECT COUNT(*) AS n FROM \`${db}\`.items WHERE shard_bucket IN (?)`,
        [second.buckets],
      );
      expect(left!.n).toBeGreaterThan(0);
      await fill(s1, staying);
      const results = await untilIdle(t, target(3, 512, 2), deps(batches));
      expect(results.at(-1)).toMatchObject({ state: 'idle', movedBuckets: 341 });
      expect(batches).toHaveLength(2);
      return 3;
    });
    const where = async (keys: string[]) => {
      const found: string[] = [];
      for (const [i, s] of [cluster.main, s0, s1, s2].entries()) {
        const rows = await s.query<{ k: string }[]>(`SELECT k FROM \`${db}\`.items WHERE k IN (?)`, [keys]);
        found.push(...rows.map((r) => `${r.k}@${i - 1}`));
      }
      return found.sort();
    };
    expect(await where(moving)).toEqual(moving.map((k) => `${k}@2`).sort());
    expect(await where(staying)).toEqual(staying.map((k) => `${k}@1`).sort());
  }, 120_000);
});

describe('a destination that dies mid-batch', () => {
  // Last in the file: it kills shard 2, whose replica the cases above use.
  it('kill -9 of its mariadbd: the batch is rolled back within the bound, writes resume, nothing lost; the move completes once it is back', async () => {
    const db = 'rs_dest_down';
    const [s0, s1, s2] = cluster.shards as [MariaDBServer, MariaDBServer, MariaDBServer];
    await createDatabase(cluster, db, [cluster.main, s0, s1]);
    const t = topology(db, cluster.main, [endpoints(s0), endpoints(s1), endpoints(s2)]);
    const groups = [cluster.main, s0, s1, s2].map((server, i) => ({ owner: i - 1, server }));
    const first = planResharding(shardMap(2), 3, 512)[0]!;
    const BOUND_MS = 1_000;
    await withApp('destination killed', t, 2, groups, async (app, batches) => {
      let killedAt = 0;
      const onStep = (p: Progress) => {
        if (p.step !== 'verify' || killedAt) return;
        killedAt = Date.now();
        void s2.kill();
      };
      // mysql2 keeps a query's timeout timer when the server dies under it: a short one, so jest can exit.
      const timeouts = { connectMs: 2_000, queryMs: 5_000 };
      const d = deps(batches, { onStep, unreachableRollbackMs: BOUND_MS, timeouts });
      const results: PassResult[] = [await reshardPass(t, target(3, 512, 2), d)];
      expect(killedAt).toBeGreaterThan(0);
      // As the controller runs them: again after retryAfterMs while the batch's writes stay paused.
      while (results.at(-1)!.reason !== 'DestinationUnreachable' && results.length < 15) {
        expect(results.at(-1)).toMatchObject({ state: 'failed', reason: 'Error', retryAfterMs: 1_000 });
        await sleep(results.at(-1)!.retryAfterMs!);
        results.push(await reshardPass(t, target(3, 512, 2), d));
      }
      const rolledBackAt = Date.now();
      expect(results.at(-1)).toMatchObject({
        state: 'failed',
        reason: 'DestinationUnreachable',
        movedBuckets: 0,
      });
      expect(results.at(-1)!.message).toMatch(
        /^DestinationUnreachable: the batch of 171 buckets from shard 0 to shard 2 was rolled back, writes resumed; shard 2's primary did not answer/,
      );
      expect(rolledBackAt - killedAt).toBeLessThan(BOUND_MS + 3_000);
      const [map] = await cluster.main.query<{ moving: string }[]>(
        `SELECT moving FROM \`${db}\`._sapp_shard_map`,
      );
      expect(map!.moving).toBe('');
      expect(
        await s0.query(`SELECT DISTINCT state FROM \`${db}\`._sapp_shard_buckets WHERE bucket IN (?)`, [
          first.buckets,
        ]),
      ).toEqual([{ state: 'owned' }]);
      const before = app.timings.length;
      await eventuallyWrites(app, first.buckets, before);
      const resumedIn = Date.now() - rolledBackAt;
      console.log(
        `destination killed: rolled back ${rolledBackAt - killedAt} ms after the kill (${results.length} passes), a write to the batch went through ${resumedIn} ms later`,
      );
      await s2.start();
      const done = await untilIdle(t, target(3, 512, 2), deps(batches, { retryAfterMs: 0 }));
      expect(done.at(-1)).toMatchObject({ state: 'idle', movedBuckets: 341 });
      expect(batches.map((b) => [b.from, b.to, b.buckets.length])).toEqual([
        [0, 2, 171],
        [1, 2, 170],
      ]);
      return 3;
    });
  }, 120_000);
});

/** Waits until a write to one of `buckets` succeeds after `since` writes. */
async function eventuallyWrites(app: AppClient, buckets: number[], since: number) {
  const mine = new Set(buckets);
  for (let i = 0; i < 200; i++) {
    if (app.timings.slice(since).some((t) => mine.has(t.bucket))) return;
    await sleep(50);
  }
  throw new Error('no write to the rolled-back buckets succeeded within 10 s');
}

/** Runs a pass in a child process and SIGKILLs it when it has recorded `stopAt` ('step:batch'); resolves with it. */
function runChildUntil(t: Topology, goal: Target, stopAt: string) {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(REPO_ROOT, 'test/resharding/pass-child.ts'),
      JSON.stringify(t),
      JSON.stringify(goal),
      stopAt,
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += String(d)));
  return new Promise<{ step: string; batch: number }>((resolve, reject) => {
    let hit: { step: string; batch: number } | undefined;
    child.stdout.on('data', (d) => {
      out += String(d);
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const l of lines) {
        const line = JSON.parse(l);
        if (!hit && `${line.step}:${line.batch}` === stopAt) {
          hit = line;
          child.kill('SIGKILL');
        }
      }
    });
    child.on('exit', (_code, signal) => {
      if (hit && signal === 'SIGKILL') resolve(hit);
      else
        reject(
          new Error(`the pass ended by itself (${signal ?? _code}) before the step: ${err.slice(-2000)}`),
        );
    });
  });
}
