// The operator as a real process: killed with SIGKILL mid-reconcile, the API server restarted under it, and
// two replicas electing a leader.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import YAML from 'yaml';
import { REPO_ROOT, createNamespace, deleteNamespace, kubectl } from './harness/cluster.js';
import { applyObj, childKey, children, condition, example, getObj } from './harness/apps.js';
import {
  FAST_LEADER_ELECTION,
  type OperatorProcess,
  startProcess,
  writeRequests,
} from './harness/operator.js';
import { eventually, sleep } from './harness/wait.js';

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

describe('crash at any point', () => {
  let ns: string;
  beforeAll(() => {
    ns = createNamespace('crash');
  });
  afterAll(() => {
    deleteNamespace(ns);
  });

  it('converges after SIGKILL in the middle of reconciling, with no duplicated or orphaned objects', async () => {
    applyObj(example('shop.yaml', ns));
    for (const delayMs of [300, 900]) {
      const p = await start(ns);
      // Wait until it is writing (some children exist), then kill it mid-way.
      await eventually('operator writing', () => children(ns, 'shop').length > 0, {
        timeoutMs: 60_000,
        intervalMs: 50,
      });
      await sleep(delayMs);
      await p.kill('SIGKILL');
    }
    await start(ns);
    await eventually(
      'Ready after restarts',
      () => condition(getObj('sapp', ns, 'shop'), 'Ready')?.status === 'True',
      {
        timeoutMs: 120_000,
      },
    );
    expectConsistent(ns, 'shop');
  }, 240_000);
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
