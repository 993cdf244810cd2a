// A resharding as the API server sees it, with real MariaDB servers: the operator runs against the local API
// server, kwok's pods stand for the database groups, and each group's primary pod is reached at a real mariadbd
// on this machine (replication is not what this test is about: one server per group, the replication pass
// simulated). The first reconcile creates the shard map; raising shards.count 2 → 3 starts a resharding whose
// progress shows in status.database.shardMap and the Resharding condition, with events at its start and end;
// the operator is stopped mid-move and a new one completes it; afterwards every row is on its bucket's owner,
// once. The same mover under writing apps, and killed with SIGKILL, runs in the services tier
// (test/resharding/*.svc.test.ts).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { bucketForKey, shardMap } from '../src/api/sharding.js';
import { Controller } from '../src/controller/controller.js';
import type { groupPass } from '../src/replication/group-pass.js';
import { MAIN_OWNER, SHARD_MAP_TABLE } from '../src/resharding/contract.js';
import { type MariaDBServer, startMariaDB } from './services/mariadb.js';
import { applyObj, condition, eventsOf, getObj, type Obj } from './harness/apps.js';
import { createNamespace, deleteNamespace } from './harness/cluster.js';
import { eventually } from './harness/wait.js';
import { startTestController } from './harness/controller.js';

const APP = 'shop';
const PASSWORD = 'int-test-password';
const WITHIN = { timeoutMs: 180_000 };
const ROWS = 300;

let ns: string;
let controller: Controller | undefined;
const servers = new Map<string, MariaDBServer>();

/** The servers are fine: the recorded primary (pod -0 of the primary StatefulSet) stays primary. */
const steadyPass: typeof groupPass = async (members, primary) => ({
  observed: members.map((m) => ({ ...m, reachable: true })),
  decision: { action: 'nothing' },
  steps: [],
  primary,
});

/** The group of a database pod: its shard label ("main" or the index). */
const groupOf = (pod: V1Pod) => pod.metadata?.labels?.['scalable.dev/shard'] ?? '';

async function startController(): Promise<Controller> {
  const { controller } = await startTestController(ns, {
    replicationIntervalMs: 500,
    replicationPass: steadyPass,
    generatePassword: () => PASSWORD,
    reshardingAddress: (pod) => {
      const server = servers.get(groupOf(pod));
      return server ? { host: '127.0.0.1', port: server.port } : undefined;
    },
  });
  return controller;
}

/** A group's server: the app database and user, and the AUTO_INCREMENT series the pods' config gives it. */
async function startGroup(group: string, offset: number): Promise<MariaDBServer> {
  const server = await startMariaDB({
    name: `reshard-int-${group}`,
    configFiles: [`[mariadbd]\nauto-increment-increment=100\nauto-increment-offset=${offset}\n`],
  });
  await server.query(
    `CREATE DATABASE app; CREATE USER 'app'@'%' IDENTIFIED BY '${PASSWORD}'; GRANT ALL ON app.* TO 'app'@'%'`,
  );
  servers.set(group, server);
  return server;
}

const app = (count: number): Obj => ({
  apiVersion: 'scalable.dev/v1alpha1',
  kind: 'ScalableApp',
  metadata: { name: APP, namespace: ns },
  spec: {
    web: { image: 'registry.k8s.io/pause:3.10' },
    database: {
      engine: 'mariadb',
      replicas: 0,
      shards: { count, replicasPerShard: 0, moveBatchBuckets: 16 },
    },
  },
});

type ShardMapStatus = {
  state: string;
  version: number;
  shards: number;
  movedBuckets: number;
  totalBuckets: number;
};
const shardMapStatus = () =>
  (getObj('ScalableApp', ns, APP)?.status as { database?: { shardMap?: ShardMapStatus } } | undefined)
    ?.database?.shardMap;

/** Where each order is, by group: customer ids per group. */
async function ordersByGroup(): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const [group, server] of servers) {
    const rows = await server
      .query<{ customer: number }[]>('SELECT customer FROM app.orders ORDER BY customer')
      .catch(() => []);
    out.set(
      group,
      rows.map((r) => Number(r.customer)),
    );
  }
  return out;
}

beforeAll(async () => {
  ns = createNamespace('resharding');
  await Promise.all([startGroup('main', 1), startGroup('0', 2), startGroup('1', 3), startGroup('2', 4)]);
  // The app's sharded table on every group, and its orders where the static map of 2 shards puts them.
  const map2 = shardMap(2);
  for (const [group, server] of servers) {
    await server.query(
      'CREATE TABLE app.orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, customer INT NOT NULL, shard_bucket SMALLINT UNSIGNED NOT NULL, KEY (shard_bucket))',
    );
    if (group === 'main' || group === '2') continue;
    const mine = Array.from({ length: ROWS }, (_, c) => c).filter(
      (c) => String(map2[bucketForKey(c)]) === group,
    );
    await server.query(
      `INSERT INTO app.orders (customer, shard_bucket) VALUES ${mine.map((c) => `(${c}, ${bucketForKey(c)})`).join(', ')}`,
    );
  }
  controller = await startController();
  applyObj(app(2));
}, 120_000);

afterAll(async () => {
  await controller?.stop();
  deleteNamespace(ns);
  await Promise.all([...servers.values()].map((s) => s.destroy()));
});

describe('resharding, as the API server sees it', () => {
  it('creates the shard map of a new app from its count: status shows it, Resharding is False', async () => {
    await eventually(
      'the map in status',
      () => {
        expect(shardMapStatus()).toMatchObject({ state: 'idle', version: 1, shards: 2, totalBuckets: 0 });
        expect(condition(getObj('ScalableApp', ns, APP), 'Resharding')).toMatchObject({
          status: 'False',
          reason: 'MapCurrent',
        });
        return true;
      },
      WITHIN,
    );
    const [row] = await servers
      .get('main')!
      .query<{ owners: string }[]>(`SELECT owners FROM app.${SHARD_MAP_TABLE} WHERE id = 1`);
    expect(row!.owners.split(',').map(Number)).toEqual(shardMap(2));
  }, 120_000);

  it('2 → 3: progress in status, an operator stopped mid-move is taken over by a new one, events at start and end', async () => {
    applyObj(app(3));
    await eventually(
      'the resharding to start',
      () => {
        const s = shardMapStatus();
        expect(s).toMatchObject({ shards: 3 });
        expect(s!.movedBuckets).toBeGreaterThan(0);
        expect(s!.movedBuckets).toBeLessThan(s!.totalBuckets);
        expect(condition(getObj('ScalableApp', ns, APP), 'Resharding')).toMatchObject({ status: 'True' });
        return true;
      },
      WITHIN,
    );
    // The operator goes away mid-move; a new one (no memory of it) finds the progress in the map and resumes. The
    // old one's pass in flight runs on to its budget, as a pass of an operator that lost its lease would: the two
    // must not both act (the mover's row lock), and the move completes once.
    await controller!.stop();
    controller = await startController();
    await eventually(
      'the resharding to complete',
      () => {
        // The numbers of a resharding a new operator only found finished are not known to it (0/0).
        const s = shardMapStatus();
        expect(s).toMatchObject({ state: 'idle', shards: 3 });
        expect(s!.movedBuckets).toBe(s!.totalBuckets);
        expect(condition(getObj('ScalableApp', ns, APP), 'Resharding')).toMatchObject({
          status: 'False',
          reason: 'MapCurrent',
        });
        return true;
      },
      WITHIN,
    );
    const reasons = eventsOf(ns, `involvedObject.name=${APP}`).map((e) => e.reason);
    expect(reasons).toContain('ReshardingStarted');
    expect(reasons).toContain('ReshardingCompleted');
    expect(shardMapStatus()!.version).toBeGreaterThan(1);

    // Every order exactly once, on the owner of its bucket in the new map; none left on the main database.
    const map3 = shardMap(3);
    const byGroup = await ordersByGroup();
    const all = [...byGroup.values()].flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: ROWS }, (_, c) => c));
    for (const [group, customers] of byGroup) {
      for (const c of customers) expect([group, c]).toEqual([String(map3[bucketForKey(c)] ?? MAIN_OWNER), c]);
    }
    expect(byGroup.get('2')!.length).toBeGreaterThan(0);
  }, 300_000);
});
