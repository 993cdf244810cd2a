// The operator as a real process: killed with SIGKILL right after each write of a first pass in turn (at
// points taken from its own request log), the API server restarted under it, and two replicas electing a leader.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { REPO_ROOT, createNamespace, deleteNamespace, kubectl } from './harness/cluster.js';
import { applyObj, childKey, children, condition, example, getObj } from './harness/apps.js';
import {
  FAST_LEADER_ELECTION,
  type OperatorProcess,
  startInProcess,
  startProcess,
  writeRequests,
} from './harness/operator.js';
import { eventually } from './harness/wait.js';

const procs: OperatorProcess[] = [];
const start = async (ns: string, env: Record<string, string> = {}) => {
  const p = await startProcess(ns, env);
  procs.push(p);
  return p;
};

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
});

/** Children and their owners are consistent: nothing duplicated, nothing orphaned. */
function expectConsistent(ns: string, instance: string) {
  const uid = getObj('sapp', ns, instance)!.metadata.uid;
  const kids = children(ns, instance);
  const keys = kids.map(childKey);
  expect(new Set(keys).size).toBe(keys.length);
  const orphans = kids.filter(
    (o) =>
      o.metadata.name !== `${instance}-credentials` &&
      !o.metadata.ownerReferences?.some((r) => r.uid === uid),
  );
  expect(orphans.map(childKey)).toEqual([]);
  const rendered = execFileSync(
    join(REPO_ROOT, 'node_modules/.bin/tsx'),
    [join(REPO_ROOT, 'src/cli.ts'), 'render', '-f', '-'],
    {
      input: JSON.stringify(getObj('sapp', ns, instance)),
      encoding: 'utf8',
    },
  );
  const expected = YAML.parseAllDocuments(rendered)
    .map((d) => d.toJS() as { kind?: string; metadata?: { name?: string } } | null)
    .filter((o) => o?.kind)
    .map((o) => `${o!.kind}/${o!.metadata!.name}`);
  expect(keys.sort()).toEqual(expected.filter((k) => !k.startsWith('HTTPRoute/')).sort());
}

/**
 * The app's objects as kind/name (the app's name replaced) with their owner references: what two apps of the same
 * spec must agree on. The reference run's set is checked against `render` by expectConsistent.
 */
function shape(ns: string, instance: string) {
  const uid = getObj('sapp', ns, instance)!.metadata.uid;
  return children(ns, instance)
    .map((o) => ({
      key: `${o.kind}/${o.metadata.name.replace(`${instance}-`, '<app>-')}`,
      owners: (o.metadata.ownerReferences ?? []).map((r) => ({
        kind: r.kind,
        uid: r.uid === uid ? '<app>' : r.uid,
        controller: r.controller ?? false,
      })),
    }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

/** The binding's URLs carry the passwords of the credentials Secret (none was generated twice). */
function expectSamePasswords(ns: string, instance: string) {
  const decode = (name: string) =>
    Object.fromEntries(
      Object.entries((getObj('secret', ns, name) as unknown as { data: Record<string, string> }).data).map(
        ([k, v]) => [k, Buffer.from(v, 'base64').toString()],
      ),
    );
  const creds = decode(`${instance}-credentials`);
  const binding = decode(`${instance}-binding`);
  const password = (url: string) => decodeURIComponent(new URL(url).password);
  expect(password(binding.DATABASE_WRITE_URL!)).toBe(creds.MYSQL_APP_PASSWORD);
  expect(password(binding.REDIS_URL!)).toBe(creds.REDIS_PASSWORD);
}

describe('crash at any point', () => {
  let ns: string;
  beforeAll(() => {
    ns = createNamespace('crash');
  });
  afterAll(() => {
    deleteNamespace(ns);
  });

  /** A small app with many objects: web, Redis, a MariaDB primary with one replica, and one shard. */
  const smallApp = (name: string) => ({
    apiVersion: 'scalable.dev/v1alpha1',
    kind: 'ScalableApp',
    metadata: { name, namespace: ns },
    spec: {
      web: { image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', port: 8080 },
      cache: {},
      database: { engine: 'mariadb', replicas: 1, shards: { count: 1 } },
    },
  });
  /**
   * The request paths of one app's objects and status, as its reconcile pass writes them (its events go to
   * /events and are not counted; the replication monitor's pod labels run on their own clock, and a label lost
   * to a kill is set again at its next pass).
   */
  const appPaths = (name: string) =>
    `^/.*/(scalableapps/${name}/status|(?!pods/)[a-z]+/${name}-[a-z0-9.-]+)$`;
  const realWrites = (log: string, name: string) =>
    readFileSync(log, 'utf8')
      .split('\n')
      .map((l) => l.split(' '))
      .filter(
        ([method, path]) =>
          ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method!) &&
          !/[?&]dryRun=/.test(path!) &&
          new RegExp(appPaths(name)).test(path!.split('?')[0]!),
      )
      .map(([method, path]) => `${method} ${path!.split('?')[0]}`);
  /** A request line with the app's name replaced, to compare two apps' passes. */
  const generic = (name: string) => (line: string) =>
    line.replace(`/${name}-`, '/<app>-').replace(`/scalableapps/${name}/`, '/scalableapps/<app>/');
  const ready = (name: string) => condition(getObj('sapp', ns, name), 'Ready')?.status === 'True';
  const applied = (name: string) => {
    const app = getObj('sapp', ns, name);
    return app !== undefined && app.status?.observedGeneration === app.metadata.generation;
  };
  const requestLog = (name: string) => join(REPO_ROOT, '.local/logs', `requests-${ns}-${name}.log`);

  it('converges to the same objects after a SIGKILL at each write of a first pass', async () => {
    // A run without kills: the objects to converge to, and the first pass's writes (up to its status write).
    applyObj(smallApp('ref'));
    const ref = await start(ns, { SAPP_TEST_REQUEST_LOG: requestLog('ref') });
    await eventually('ref Ready', () => ready('ref'), { timeoutMs: 60_000 });
    await ref.kill('SIGKILL');
    expectConsistent(ns, 'ref');
    const reference = shape(ns, 'ref');
    const writes = realWrites(requestLog('ref'), 'ref');
    const statusWrite = writes.findIndex((w) => w.endsWith('/scalableapps/ref/status'));
    // Every kill point lands after a write of the first pass and before its status write: mid-pass.
    const killPoints = Array.from({ length: statusWrite }, (_, i) => i + 1);
    expect(killPoints.length).toBeGreaterThanOrEqual(20);

    const started = Date.now();
    for (const k of killPoints) {
      const name = `k${k}`;
      applyObj(smallApp(name));
      const crashing = await start(ns, {
        SAPP_TEST_REQUEST_LOG: requestLog(name),
        SAPP_TEST_KILL_AT_WRITE: String(k),
        SAPP_TEST_KILL_PATHS: appPaths(name),
      });
      await eventually(
        'the k-th write kills it',
        () => crashing.child.exitCode !== null || crashing.child.signalCode !== null,
        {
          timeoutMs: 60_000,
          intervalMs: 20,
        },
      );
      await crashing.kill('SIGKILL'); // the rest of its process group
      const done = realWrites(requestLog(name), name);
      // It died right after its k-th write, the same write as the reference pass's k-th.
      expect({ k, writes: done.map(generic(name)) }).toEqual({
        k,
        writes: writes.slice(0, k).map(generic('ref')),
      });
      expect(getObj('sapp', ns, name)?.status).toBeUndefined(); // the pass never reached its status write

      const recovering = await startInProcess(ns);
      try {
        // Converged: a pass applied everything (observedGeneration advances only then).
        await eventually(`${name} applied after the restart`, () => applied(name), { timeoutMs: 60_000 });
        await recovering.controller.queue.idle();
      } finally {
        await recovering.stop();
      }
      expect({ k, objects: shape(ns, name) }).toEqual({ k, objects: reference });
      expectSamePasswords(ns, name);
      kubectl(['-n', ns, 'delete', 'sapp', name, '--wait=false']);
    }
    console.log(`${killPoints.length} kill points in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 600_000);
});

describe('API server restart', () => {
  let ns: string;
  beforeAll(() => {
    ns = createNamespace('apirestart');
  });
  afterAll(() => deleteNamespace(ns));

  it('loses no change made around an outage: reconciled within 30 s of recovery', async () => {
    applyObj(example('minimal.yaml', ns));
    await start(ns);
    await eventually('Ready', () => condition(getObj('sapp', ns, 'hello'), 'Ready')?.status === 'True', {
      timeoutMs: 60_000,
    });
    execFileSync('bash', [join(REPO_ROOT, 'hack/cluster.sh'), 'restart-apiserver'], { stdio: 'ignore' });
    const recovered = Date.now();
    const app = example('minimal.yaml', ns);
    (app.spec!.web as Record<string, unknown>).port = 9090;
    applyObj(app);
    await eventually(
      'port change reconciled',
      () =>
        (
          getObj('deployment', ns, 'hello-web')?.spec as {
            template: { spec: { containers: { ports: { containerPort: number }[] }[] } };
          }
        )?.template.spec.containers[0]!.ports[0]!.containerPort === 9090,
      { timeoutMs: 30_000 },
    );
    expect(Date.now() - recovered).toBeLessThan(30_000);
  }, 120_000);
});

describe('leader election', () => {
  let ns: string;
  beforeAll(() => {
    ns = createNamespace('leader');
  });
  afterAll(() => deleteNamespace(ns));

  it('only the leader writes, and a SIGKILLed leader hands over within the lease duration', async () => {
    const env = { ...FAST_LEADER_ELECTION, LEASE_NAMESPACE: ns };
    const a = await start(ns, env);
    await eventually(
      'a leads',
      async () =>
        (await a.metrics()).includes('leader_election_master_status{name="scalable-app-operator"} 1'),
      {
        timeoutMs: 30_000,
      },
    );
    const b = await start(ns, env);
    await eventually('b is up', async () => (await b.metrics()).includes('leader_election_master_status'), {
      timeoutMs: 30_000,
    });
    applyObj(example('minimal.yaml', ns));
    await eventually('Ready', () => condition(getObj('sapp', ns, 'hello'), 'Ready')?.status === 'True', {
      timeoutMs: 60_000,
    });
    // The follower wrote nothing but its own attempts on the lease (which are PUT/POST to leases, none here as
    // the lease is held): its write counter is zero.
    expect(writeRequests(await b.metrics())).toBe(0);
    expect(await b.metrics()).toContain('leader_election_master_status{name="scalable-app-operator"} 0');

    await a.kill('SIGKILL');
    const killed = Date.now();
    await eventually(
      'b leads',
      async () =>
        (await b.metrics()).includes('leader_election_master_status{name="scalable-app-operator"} 1'),
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    const handover = Date.now() - killed;
    expect(handover).toBeLessThan(6000 + 2000); // lease duration plus one retry period and polling
    const app = example('minimal.yaml', ns);
    (app.spec!.web as Record<string, unknown>).replicas = 3;
    applyObj(app);
    await eventually(
      'new leader reconciles',
      () => (getObj('deployment', ns, 'hello-web')?.spec as { replicas: number })?.replicas === 3,
    );
    const lease = JSON.parse(
      kubectl(['-n', ns, 'get', 'lease', 'scalable-app-operator', '-o', 'json']).stdout,
    );
    expect(lease.spec.leaseTransitions).toBeGreaterThanOrEqual(1);

    // SIGTERM: the leader finishes its work, releases the Lease (so a successor need not wait) and exits 0.
    const exited = new Promise<number | null>((resolve) => b.child.once('exit', (code) => resolve(code)));
    const stopping = Date.now();
    process.kill(b.child.pid!, 'SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(10_000);
    const released = JSON.parse(
      kubectl(['-n', ns, 'get', 'lease', 'scalable-app-operator', '-o', 'json']).stdout,
    );
    expect(released.spec.holderIdentity ?? '').toBe('');
  }, 120_000);
});
