// End to end, on the local real node (hack/node.sh): the shop's shards go 2 → 3 while shoppers place orders for
// customers spread over every shard and a reader reads placed orders back, one by one and as each customer's
// list. The operator brings up shard 2, moves the buckets it takes (rows and all) batch by batch, and only then
// routes them there; the shop pods follow the map without a restart. Counted: orders acknowledged (201) and
// missing or duplicated afterwards over all groups, orders on a group that does not own their bucket, failed
// reads, failed orders, and the write pause per batch the operator reports.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bucketForKey, shardMap } from '../src/api/sharding.js';
import { applyObj, condition, eventsOf, getObj } from '../test/harness/apps.js';
import { createNamespace, kubectl } from '../test/harness/cluster.js';
import { eventually, sleep } from '../test/harness/wait.js';
import { Shopper } from './harness/load.js';
import { type RunningOperator, startOperatorFor } from './harness/operator.js';
import { Report, secs } from './harness/report.js';
import { APP, databasePod, profile, resolveTarget, shopManifest, sql } from './harness/shop.js';
import { dropNamespace, stopOperator } from './harness/teardown.js';

const report = new Report('resharding');
const { note } = report;

let ns: string;
let op: RunningOperator | undefined;
let fromCount: number;
let databaseName: string;

interface Placed {
  id: number;
  customer: number;
  at: number;
}

interface ShardMapStatus {
  state: string;
  version: number;
  shards: number;
  movedBuckets: number;
  totalBuckets: number;
  maxBatchPauseMs?: number;
}
const shardMapStatus = () =>
  (getObj('sapp', ns, APP)?.status as { database?: { shardMap?: ShardMapStatus } } | undefined)?.database
    ?.shardMap;

// The real node runs the shop's MariaDB image; kind runs the example as it is (and its own e2e workflow).
const onLocalNode = profile() === 'local' ? describe : describe.skip;

onLocalNode('shards 2 → 3 under orders', () => {
  beforeAll(async () => {
    ns = createNamespace('e2e-reshard');
    const { obj } = shopManifest(ns);
    const db = obj.spec!.database as { shards: { count: number }; databaseName: string };
    fromCount = db.shards.count;
    databaseName = db.databaseName;
    op = await startOperatorFor(ns);
    const t0 = Date.now();
    applyObj(obj);
    await eventually(
      'ScalableApp Ready=True and the shard map read',
      () =>
        condition(getObj('sapp', ns, APP), 'Ready')?.status === 'True' && shardMapStatus()?.state === 'idle',
      { timeoutMs: 900_000, intervalMs: 2000 },
    );
    note(
      `namespace ${ns}: Ready after ${secs(Date.now() - t0)}, shard map version ${shardMapStatus()?.version}`,
    );
  }, 1_000_000);

  afterAll(async () => {
    await stopOperator(op);
    report.print();
    dropNamespace(ns);
  }, 300_000);

  it('moves the buckets of the new shard: no order lost, duplicated or stranded, no read failed', async () => {
    const target = resolveTarget(ns, getObj('sapp', ns, APP)!);
    // Stock for every order of the run: a sold-out product (409) is not what this test counts.
    await sql(
      ns,
      databasePod(ns, 'main', 'primary'),
      `UPDATE \`${databaseName}\`.inventory SET stock = 1000000`,
    );
    // Customers over every shard, and among them some whose bucket shard 2 takes.
    const map3 = shardMap(fromCount + 1);
    const customers = Array.from({ length: 12 }, (_, i) => 5000 + i);
    const moving = customers.filter((c) => map3[bucketForKey(c)] === fromCount).length;
    note(`${customers.length} shoppers, ${moving} of them in buckets the new shard takes`);
    const shoppers = customers.map((c, i) => new Shopper(i, c, target));
    const placed: Placed[] = [];
    const failures: { t: number; what: string }[] = [];
    let reads = 0;
    let lists = 0;
    let running = true;

    const order = async (s: Shopper) => {
      while (running) {
        try {
          const added = await s.addToCart(1 + (s.requests % 20));
          if (added.status !== 200) throw new Error(`cart ${added.status}`);
          const r = await s.request('POST', '/orders', {});
          if (r.status !== 201) throw new Error(`order ${r.status} ${JSON.stringify(r.body).slice(0, 160)}`);
          const body = r.body as { id: number; customer: number };
          placed.push({ id: body.id, customer: body.customer, at: Date.now() });
          s.cart.clear();
        } catch (err) {
          failures.push({ t: Date.now(), what: `order: ${(err as Error).message}` });
          await sleep(200);
        }
        await sleep(250);
      }
    };
    // Reads of orders placed (at least a second ago, so replicas had time): one by one, and each customer's list,
    // which must hold every order of the customer acknowledged before the list was asked for, once.
    const reader = new Shopper(99, customers[0]!, target);
    const readBack = async () => {
      while (running) {
        const o = placed[Math.floor(Math.random() * placed.length)];
        if (!o || Date.now() - o.at < 1000) {
          await sleep(100);
          continue;
        }
        try {
          const r = await reader.request('GET', `/orders/${o.id}?customer=${o.customer}`);
          reads++;
          if (r.status !== 200) failures.push({ t: Date.now(), what: `read ${o.id}: ${r.status}` });
          const before = placed.filter((p) => p.customer === o.customer && Date.now() - p.at >= 1000);
          const list = await reader.request('GET', `/orders?customer=${o.customer}`);
          lists++;
          const ids = ((list.body as { orders?: { id: number }[] }).orders ?? []).map((x) => x.id);
          const missing = before.filter((p) => !ids.includes(p.id));
          const dup = ids.filter((id, i) => ids.indexOf(id) !== i);
          if (list.status !== 200 || missing.length || dup.length) {
            failures.push({
              t: Date.now(),
              what: `read list ${o.customer}: ${list.status}, ${missing.length} missing, ${dup.length} duplicated`,
            });
          }
        } catch (err) {
          failures.push({ t: Date.now(), what: `read: ${(err as Error).message}` });
        }
        await sleep(50);
      }
    };
    const load = Promise.all([...shoppers.map(order), readBack()]);
    await eventually('orders placed before the resharding', () => placed.length >= 40, {
      timeoutMs: 120_000,
    });

    const before = shardMapStatus()!;
    const startedAt = Date.now();
    kubectl([
      '-n',
      ns,
      'patch',
      'sapp',
      APP,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { database: { shards: { count: fromCount + 1 } } } }),
    ]);
    note(
      `shards.count ${fromCount} → ${fromCount + 1} after ${placed.length} orders (map version ${before.version})`,
    );
    const done = await eventually(
      'the resharding to complete',
      () => {
        const s = shardMapStatus();
        return s?.state === 'idle' && s.shards === fromCount + 1 && s.version > before.version
          ? s
          : undefined;
      },
      { timeoutMs: 900_000, intervalMs: 1000 },
    );
    const completedAt = Date.now();
    await sleep(5_000);
    running = false;
    await load;

    // Every acknowledged order, over all groups: once, and on the owner of its customer's bucket.
    const groups = ['main', ...Array.from({ length: fromCount + 1 }, (_, i) => String(i))];
    const where = new Map<number, string[]>();
    for (const g of groups) {
      const rows = await sql(
        ns,
        databasePod(ns, g, 'primary'),
        `SELECT id, customer_id FROM \`${databaseName}\`.orders`,
      );
      for (const [id] of rows) where.set(Number(id), [...(where.get(Number(id)) ?? []), g]);
    }
    const missing = placed.filter((o) => !where.has(o.id));
    const duplicated = placed.filter((o) => (where.get(o.id)?.length ?? 0) > 1);
    const stranded = placed.filter((o) => {
      const owner = map3[bucketForKey(o.customer)]!;
      return where.get(o.id)?.[0] !== String(owner);
    });
    const orderFailures = failures.filter((f) => f.what.startsWith('order'));
    const readFailures = failures.filter((f) => f.what.startsWith('read'));
    const events = eventsOf(ns, `involvedObject.name=${APP}`).filter((e) =>
      e.reason.startsWith('Resharding'),
    );
    note(
      `resharding done ${secs(completedAt - startedAt)} after the patch: map version ${before.version} → ${done.version}, ` +
        `longest write pause of a batch ${done.maxBatchPauseMs ?? '?'} ms; ${placed.length} orders acknowledged, ` +
        `${missing.length} missing, ${duplicated.length} duplicated, ${stranded.length} off their owner; ` +
        `${orderFailures.length} order attempts failed; ${readFailures.length} failed of ${reads} reads and ${lists} lists`,
    );
    note(`events: ${events.map((e) => `${e.reason}: ${e.message}`).join(' | ')}`);
    for (const f of failures.slice(0, 10)) note(`  failed: ${new Date(f.t).toISOString()} ${f.what}`);
    expect(missing).toEqual([]);
    expect(duplicated).toEqual([]);
    expect(stranded).toEqual([]);
    expect(readFailures).toEqual([]);
    // A write to a moving bucket waits (the shop retries up to 5 s): none fails.
    expect(orderFailures).toEqual([]);
    expect(events.map((e) => e.reason)).toEqual(
      expect.arrayContaining(['ReshardingStarted', 'ReshardingCompleted']),
    );
    await Promise.all([...shoppers, reader].map((s) => s.close()));
  }, 1_200_000);
});
