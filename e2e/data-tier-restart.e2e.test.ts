// End to end, on the local real node (hack/node.sh), whose containers are processes of this machine: the server
// of each data-tier container (main primary, main replica, shard primary, shard replica, Redis) is killed with
// SIGKILL from the host, as a crash or the kernel's OOM killer would; the kubelet restarts the container in the
// same pod (same emptyDirs, same volume) and each must come back by itself, Ready, with the rows and keys written
// before, the primaries taking writes and the replicas replicating again. Nobody deletes a pod.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { createNamespace, kubectl } from '../test/harness/cluster.js';
import { applyObj } from '../test/harness/apps.js';
import { eventually } from '../test/harness/wait.js';
import { type RunningOperator, startOperatorFor } from './harness/operator.js';
import { Report, secs } from './harness/report.js';
import {
  APP,
  databasePod,
  kubectlAsync,
  profile,
  shopManifest,
  sql,
  waitForShopReady,
} from './harness/shop.js';
import { dropNamespace, stopOperator } from './harness/teardown.js';

const ROWS = 50;
const report = new Report('restart');
const { note } = report;

let ns: string;
let op: RunningOperator | undefined;
let table: string;

interface PodJson {
  metadata: { deletionTimestamp?: string; uid: string };
  status: {
    containerStatuses?: { name: string; restartCount: number; containerID?: string }[];
    conditions?: { type: string; status: string }[];
  };
}

async function podState(pod: string, container: string) {
  const p = JSON.parse(await kubectlAsync(['-n', ns, 'get', 'pod', pod, '-o', 'json'])) as PodJson;
  const c = p.status.containerStatuses?.find((s) => s.name === container);
  return {
    uid: p.metadata.uid,
    restarts: c?.restartCount ?? 0,
    containerId: c?.containerID?.replace(/^[a-z]+:\/\//, ''),
    ready:
      !p.metadata.deletionTimestamp &&
      !!p.status.conditions?.some((s) => s.type === 'Ready' && s.status === 'True'),
  };
}

/**
 * SIGKILL of the process `command` of a container, from the host: found by the container id in its cgroup.
 * (Inside the container the server is PID 1, which a SIGKILL from its own PID namespace does not reach.)
 */
function killFromHost(containerId: string, command: string): number {
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== command) continue;
      if (!readFileSync(`/proc/${entry}/cgroup`, 'utf8').includes(containerId)) continue;
    } catch {
      continue; // the process ended meanwhile
    }
    process.kill(Number(entry), 'SIGKILL');
    return Number(entry);
  }
  throw new Error(`no ${command} process in container ${containerId} on this machine`);
}

/** Kills the server of a container and waits for the same pod to be Ready again after one restart. */
async function killAndWait(pod: string, container: string, command: string): Promise<number> {
  // Ready first: a replica is not Ready until it replicates again after its primary's own restart.
  let before = await podState(pod, container);
  await eventually(
    `${pod} Ready before the kill`,
    async () => (before = await podState(pod, container)).ready,
    { timeoutMs: 120_000, intervalMs: 1000 },
  );
  const pid = killFromHost(before.containerId!, command);
  const killedAt = Date.now();
  let after = before;
  await eventually(
    `${pod} restarted and Ready`,
    async () => {
      after = await podState(pod, container);
      return after.restarts > before.restarts && after.ready;
    },
    { timeoutMs: 240_000, intervalMs: 1000 },
  );
  const ms = Date.now() - killedAt;
  // The same pod (no one deleted it), restarted once: no crash loop.
  expect(after.uid).toBe(before.uid);
  expect(after.restarts).toBe(before.restarts + 1);
  note(`${pod}/${container}: ${command} (host pid ${pid}) killed, Ready again after ${secs(ms)}`);
  return ms;
}

const count = async (pod: string) => Number((await sql(ns, pod, `SELECT COUNT(*) FROM ${table}`))[0]![0]);

async function waitForRows(pod: string, rows: number) {
  await eventually(`${pod} to hold ${rows} rows`, async () => (await count(pod)) === rows, {
    timeoutMs: 60_000,
    intervalMs: 1000,
  });
}

const redis = (pod: string, ...args: string[]) =>
  kubectlAsync(['-n', ns, 'exec', pod, '-c', 'redis', '--', 'redis-cli', '--no-auth-warning', ...args]);

// The kills come from this machine, where the local node's containers run; kind's run inside Docker.
const onLocalNode = profile() === 'local' ? describe : describe.skip;

onLocalNode(
  'a data-tier server killed with SIGKILL comes back by itself, in the same pod, with its data',
  () => {
    beforeAll(async () => {
      ns = createNamespace('e2e-restart');
      const { obj } = shopManifest(ns);
      table = `${(obj.spec!.database as { databaseName: string }).databaseName}.e2e_restart`;
      op = await startOperatorFor(ns);
      const t0 = Date.now();
      applyObj(obj);
      await waitForShopReady(ns, 600_000);
      note(`namespace ${ns}: Ready after ${secs(Date.now() - t0)}`);
    }, 900_000);

    afterAll(async () => {
      await stopOperator(op);
      report.print();
      dropNamespace(ns);
    }, 300_000);

    it.each<[string | number, string]>([
      ['main', 'the main group'],
      [0, 'shard 0'],
    ])(
      'primary, then replica, of %s (%s)',
      async (shard, _label) => {
        const primary = databasePod(ns, shard, 'primary');
        const replica = databasePod(ns, shard, 'replica');
        await sql(ns, primary, `CREATE TABLE ${table} (id INT PRIMARY KEY, note VARCHAR(64))`);
        const values = Array.from({ length: ROWS }, (_, i) => `(${i}, 'before')`).join(',');
        await sql(ns, primary, `INSERT INTO ${table} VALUES ${values}`);
        await waitForRows(replica, ROWS);

        await killAndWait(primary, 'mariadb', 'mariadbd');
        expect(await count(primary)).toBe(ROWS);
        await sql(ns, primary, `INSERT INTO ${table} VALUES (${ROWS}, 'after the primary restart')`);
        await waitForRows(replica, ROWS + 1);

        await killAndWait(replica, 'mariadb', 'mariadbd');
        expect(await count(replica)).toBe(ROWS + 1);
        await sql(ns, primary, `INSERT INTO ${table} VALUES (${ROWS + 1}, 'after the replica restart')`);
        // Replicating again (its readiness, which passed, also requires both replication threads running).
        await waitForRows(replica, ROWS + 2);
      },
      600_000,
    );

    it('Redis (AOF)', async () => {
      const pod = `${APP}-cache-0`;
      await redis(
        pod,
        'MSET',
        ...Array.from({ length: ROWS }, (_, i) => [`e2e:restart:${i}`, String(i)]).flat(),
      );
      await killAndWait(pod, 'redis', 'redis-server');
      const values = (await redis(pod, 'MGET', ...Array.from({ length: ROWS }, (_, i) => `e2e:restart:${i}`)))
        .trim()
        .split('\n');
      expect(values).toEqual(Array.from({ length: ROWS }, (_, i) => String(i)));
      expect((await redis(pod, 'SET', 'e2e:restart:after', 'x')).trim()).toBe('OK');
    }, 300_000);

    it('the app is Ready again, with no component left degraded', async () => {
      await waitForShopReady(ns, 120_000);
      const restarts = kubectl([
        '-n',
        ns,
        'get',
        'pods',
        '-l',
        'app.kubernetes.io/instance=shop',
        '-o',
        'wide',
      ]).stdout;
      note(`pods after the kills:\n${restarts}`);
    }, 180_000);
  },
);
