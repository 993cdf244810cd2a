// End to end, on the local real node (hack/node.sh): a shard primary stops answering (SIGSTOP of its mariadbd
// from the host: a hung server, or a node cut off) while shoppers place orders on that shard and read them back.
// The operator fences it (deletes its pod), promotes the shard's replica, records it, and the write Service
// follows; the old primary's pod comes back and rejoins as a replica (or is copied again). Counted: orders
// acknowledged (201) and missing or duplicated afterwards, the longest time without an acknowledged order, failed
// requests, failed reads of orders already placed. Then the Redis primary (one replica) is killed (kill -9)
// under shoppers filling carts: counted are carts that changed or vanished, and failed requests.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { shardForKey } from '../src/api/sharding.js';
import { applyObj, getObj } from '../test/harness/apps.js';
import { createNamespace, kubectl } from '../test/harness/cluster.js';
import { eventually, sleep } from '../test/harness/wait.js';
import { cartOf, Shopper } from './harness/load.js';
import { type RunningOperator, startOperatorFor } from './harness/operator.js';
import { Report, secs } from './harness/report.js';
import {
  APP,
  databasePod,
  killInContainer,
  profile,
  resolveTarget,
  shopManifest,
  sql,
  waitForShopReady,
} from './harness/shop.js';
import { dropNamespace, stopOperator } from './harness/teardown.js';

const report = new Report('failover');
const { note } = report;

let ns: string;
let op: RunningOperator | undefined;
let shardCount: number;
let databaseName: string;

interface Placed {
  id: number;
  customer: number;
  at: number;
}

// The signal comes from this machine, where the local node's containers run; kind's run inside Docker.
const onLocalNode = profile() === 'local' ? describe : describe.skip;

onLocalNode('a shard primary that stops answering under orders', () => {
  beforeAll(async () => {
    ns = createNamespace('e2e-failover');
    const { obj } = shopManifest(ns);
    (obj.spec!.cache as { replicas?: number }).replicas = 1;
    const db = obj.spec!.database as { shards: { count: number }; databaseName: string };
    shardCount = db.shards.count;
    databaseName = db.databaseName;
    op = await startOperatorFor(ns);
    const t0 = Date.now();
    applyObj(obj);
    await waitForShopReady(ns, 900_000);
    note(`namespace ${ns}: Ready after ${secs(Date.now() - t0)}`);
  }, 1_000_000);

  afterAll(async () => {
    await stopOperator(op);
    report.print();
    dropNamespace(ns);
  }, 300_000);

  it('promotes the replica: no acknowledged order lost or duplicated, writes back within 30 s, reads never fail', async () => {
    const target = resolveTarget(ns, getObj('sapp', ns, APP)!);
    const customers = Array.from({ length: 400 }, (_, i) => 1000 + i)
      .filter((c) => shardForKey(c, shardCount) === 0)
      .slice(0, 4);
    const shoppers = customers.map((c, i) => new Shopper(i, c, target));
    const placed: Placed[] = [];
    const failures: { t: number; what: string }[] = [];
    let reads = 0;
    let running = true;

    const order = async (s: Shopper) => {
      while (running) {
        try {
          const added = await s.addToCart(1 + (s.requests % 20));
          if (added.status !== 200) throw new Error(`cart ${added.status}`);
          const r = await s.request('POST', '/orders', {});
          if (r.status !== 201) throw new Error(`order ${r.status} ${JSON.stringify(r.body).slice(0, 120)}`);
          const body = r.body as { id: number; customer: number; shard: number };
          expect(body.shard).toBe(0);
          placed.push({ id: body.id, customer: body.customer, at: Date.now() });
          s.cart.clear();
        } catch (err) {
          failures.push({ t: Date.now(), what: `order: ${(err as Error).message}` });
          await sleep(200);
        }
      }
    };
    // Reads of orders already placed: served by the shard's replicas, or its primary while it has none.
    const reader = new Shopper(99, customers[0]!, target);
    const readBack = async () => {
      while (running) {
        const o = placed[Math.floor(Math.random() * placed.length)];
        if (!o) {
          await sleep(100);
          continue;
        }
        try {
          const r = await reader.request('GET', `/orders/${o.id}?customer=${o.customer}`);
          reads++;
          if (r.status !== 200) failures.push({ t: Date.now(), what: `read ${o.id}: ${r.status}` });
        } catch (err) {
          failures.push({ t: Date.now(), what: `read: ${(err as Error).message}` });
        }
        await sleep(50);
      }
    };
    const load = Promise.all([...shoppers.map(order), readBack()]);
    await eventually('orders placed before the failure', () => placed.length >= 20, { timeoutMs: 60_000 });

    const old = databasePod(ns, 0, 'primary');
    const pid = killInContainer(ns, old, 'mariadb', 'mariadbd', 'SIGSTOP');
    const stoppedAt = Date.now();
    note(
      `SIGSTOP of mariadbd (host pid ${pid}) in ${old}, the primary of shard 0, after ${placed.length} orders`,
    );

    const shardStatus = () =>
      (
        getObj('sapp', ns, APP)?.status as {
          database?: { shards?: { index: number; primaryPod?: string }[] };
        }
      )?.database?.shards?.find((s) => s.index === 0);
    const promoted = await eventually(
      'the failover recorded in status',
      () => {
        const p = shardStatus()?.primaryPod;
        return p && p !== old ? p : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    const recordedAt = Date.now();
    await eventually(
      'an order acknowledged after the failover',
      () => placed.some((o) => o.at > recordedAt),
      {
        timeoutMs: 60_000,
      },
    );
    await sleep(10_000);
    running = false;
    await load;

    // The longest time without an acknowledged order, from the last one before the failure on.
    const times = placed.map((o) => o.at).sort((a, b) => a - b);
    let gap = 0;
    let last = times.filter((t) => t <= stoppedAt).at(-1) ?? stoppedAt;
    for (const t of times.filter((x) => x > stoppedAt)) {
      gap = Math.max(gap, t - last);
      last = t;
    }
    const newPrimary = databasePod(ns, 0, 'primary');
    expect(newPrimary).toBe(promoted);
    const ids = placed.map((o) => o.id);
    const rows = await sql(
      ns,
      newPrimary,
      `SELECT id, COUNT(*) FROM \`${databaseName}\`.orders WHERE id IN (${ids.join(',')}) GROUP BY id`,
    );
    const found = new Map(rows.map(([id, n]) => [Number(id), Number(n)]));
    const missing = ids.filter((id) => !found.has(id));
    const duplicated = [...found].filter(([, n]) => n > 1).map(([id]) => id);
    const orderFailures = failures.filter((f) => f.what.startsWith('order'));
    const readFailures = failures.filter((f) => f.what.startsWith('read'));
    const failover = (shardStatus() as { lastFailover?: { reason: string } } | undefined)?.lastFailover;
    note(
      `failover to ${promoted} recorded ${secs(recordedAt - stoppedAt)} after the SIGSTOP (${failover?.reason}); ` +
        `${placed.length} orders acknowledged, ${missing.length} missing, ${duplicated.length} duplicated on the new ` +
        `primary; longest time without an acknowledged order ${secs(gap)}; ${orderFailures.length} order attempts ` +
        `failed, ${readFailures.length} of ${reads} reads failed`,
    );
    for (const f of failures.slice(0, 10)) note(`  failed: ${new Date(f.t).toISOString()} ${f.what}`);
    expect(missing).toEqual([]);
    expect(duplicated).toEqual([]);
    expect(gap).toBeLessThanOrEqual(30_000);
    expect(readFailures).toEqual([]);
    await Promise.all([...shoppers, reader].map((s) => s.close()));
  }, 600_000);

  it('the old primary comes back as a replica of the new one, and the app is Ready again', async () => {
    const replica = await eventually(
      'the old primary Ready again, labelled replica',
      () => {
        try {
          return databasePod(ns, 0, 'replica');
        } catch {
          return undefined;
        }
      },
      { timeoutMs: 300_000, intervalMs: 2000 },
    );
    const primary = databasePod(ns, 0, 'primary');
    const count = `SELECT COUNT(*) FROM \`${databaseName}\`.orders`;
    const onPrimary = await sql(ns, primary, count);
    await eventually(
      'the replica holds every order of the primary',
      async () => {
        return JSON.stringify(await sql(ns, replica, count)) === JSON.stringify(onPrimary);
      },
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
    await waitForShopReady(ns, 180_000);
    const events = kubectl([
      '-n',
      ns,
      'get',
      'events',
      '--field-selector',
      'reason=Failover',
      '-o',
      'name',
    ]).stdout;
    expect(events.trim().split('\n').filter(Boolean)).toHaveLength(1);
    note(`${replica} replicates from ${primary} with ${onPrimary[0]![0]} orders; the app is Ready`);
  }, 600_000);

  it('Redis: its primary killed under shoppers filling carts, every cart survives', async () => {
    const target = resolveTarget(ns, getObj('sapp', ns, APP)!);
    const shoppers = Array.from({ length: 6 }, (_, i) => new Shopper(200 + i, 5000 + i, target));
    for (const s of shoppers) for (let p = 1; p <= 3; p++) expect((await s.addToCart(p)).status).toBe(200);
    /** Every acknowledged add: who, what, when. */
    const adds: { shopper: number; product: number; at: number }[] = [];
    const failures: { t: number; what: string }[] = [];
    let running = true;
    const shop = async (s: Shopper) => {
      while (running) {
        const product = 1 + Math.floor(Math.random() * 20);
        try {
          const r = await s.addToCart(product);
          if (r.status === 200) adds.push({ shopper: s.id, product, at: Date.now() });
          else failures.push({ t: Date.now(), what: `cart ${r.status}` });
        } catch (err) {
          failures.push({ t: Date.now(), what: (err as Error).message });
        }
        await sleep(100);
      }
    };
    const load = Promise.all(shoppers.map(shop));
    await sleep(3000);
    const victim = redisPrimary();
    const pid = killInContainer(ns, victim, 'redis', 'redis-server');
    const killedAt = Date.now();
    note(`kill -9 of redis-server (host pid ${pid}) in ${victim}, the Redis primary`);
    await eventually('a cart written 5 s after the kill', () => adds.some((a) => a.at > killedAt + 5000), {
      timeoutMs: 120_000,
    });
    await sleep(5000);
    running = false;
    await load;
    const times = adds.map((a) => a.at);
    let gap = 0;
    let last = times.filter((t) => t <= killedAt).at(-1) ?? killedAt;
    for (const t of times.filter((x) => x > killedAt)) {
      gap = Math.max(gap, t - last);
      last = t;
    }
    // Redis copies asynchronously and appends to its file every second: what was acknowledged in the last
    // moments before the kill may be lost. Everything acknowledged more than 1.5 s before must be there.
    const settled = killedAt - 1500;
    let missing = 0;
    for (const s of shoppers) {
      const { reply } = await s.checkCart();
      expect(reply.status).toBe(200);
      const have = cartOf(reply.body);
      const want = new Map<number, number>([
        [1, 1],
        [2, 1],
        [3, 1],
      ]);
      const wantOld = new Map(want);
      for (const a of adds.filter((x) => x.shopper === s.id)) {
        want.set(a.product, (want.get(a.product) ?? 0) + 1);
        if (a.at <= settled) wantOld.set(a.product, (wantOld.get(a.product) ?? 0) + 1);
      }
      for (const [product, n] of want) {
        const short = Math.max(0, n - (have.get(product) ?? 0));
        missing += short;
        expect(have.get(product) ?? 0).toBeGreaterThanOrEqual(wantOld.get(product) ?? 0);
      }
    }
    note(
      `Redis primary killed: carts written again after ${secs(gap)}; ${failures.length} cart requests failed; ` +
        `${adds.length} adds acknowledged, ${missing} missing afterwards (all from the last 1.5 s before the kill); ` +
        `primary now ${redisPrimary()}`,
    );
    for (const f of failures.slice(0, 5)) note(`  failed: ${new Date(f.t).toISOString()} ${f.what}`);
    expect(gap).toBeLessThanOrEqual(30_000);
    await Promise.all(shoppers.map((s) => s.close()));
  }, 300_000);
});

/** The Redis pod labelled primary. */
function redisPrimary(): string {
  const selector = `app.kubernetes.io/instance=${APP},app.kubernetes.io/component=cache,scalable.dev/replication-role=primary`;
  const out = kubectl([
    '-n',
    ns,
    'get',
    'pods',
    '-l',
    selector,
    '-o',
    'jsonpath={.items[*].metadata.name}',
  ]).stdout.trim();
  if (!out || out.includes(' ')) throw new Error(`not one Redis primary: '${out}'`);
  return out;
}
