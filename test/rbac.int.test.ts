// The operator with exactly the Helm chart's permissions: the chart's ServiceAccount and RBAC (from
// `helm template`) are installed, the operator runs in-process with a kubeconfig that impersonates that
// ServiceAccount (`as: system:serviceaccount:<ns>:<name>`), and examples/shop.yaml must become Ready with no
// request forbidden (rest_client_requests_total{code="403"} stays 0, no "forbidden" in the logs). Every mode:
// one watched namespace (a Role), two (a Role in each, nothing cluster-scoped) and every namespace (ClusterRole).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import YAML from 'yaml';
import { loadKubeConfig } from '../src/kube/client.js';
import { rootLogger } from '../src/log.js';
import { type OperatorHandle, startOperator } from '../src/operator.js';
import { admitIngress, applyObj, condition, example, getObj } from './harness/apps.js';
import { helmBinary, installChartRbac } from './harness/chart.js';
import { REPO_ROOT, createNamespace, deleteNamespace, kubectl } from './harness/cluster.js';
import { FAST_LEADER_ELECTION, testConfig } from './harness/operator.js';
import { eventually, sleep } from './harness/wait.js';

const KUBECONFIG_DIR = join(REPO_ROOT, '.local', `rbac-test-${process.pid}`);

let helmBin: string;
const namespaces: string[] = [];
const clusterObjects: string[] = [];
const operators: OperatorHandle[] = [];

function namespace(prefix: string): string {
  const ns = createNamespace(prefix);
  namespaces.push(ns);
  return ns;
}

/** Installs the chart's ServiceAccount and RBAC only; returns the ServiceAccount's user name and the Lease. */
function installRbac(release: string, releaseNs: string, args: string[] = []) {
  const { user, lease } = installChartRbac(helmBin, release, releaseNs, args, clusterObjects);
  return { user, lease };
}

/** The test cluster's admin kubeconfig with `as: <user>` on its user: every request impersonates the user. */
function impersonatingKubeconfig(user: string): string {
  const admin = YAML.parse(readFileSync(process.env.KUBECONFIG!, 'utf8')) as {
    users: { name: string; user: Record<string, unknown> }[];
  };
  for (const u of admin.users) u.user.as = user;
  mkdirSync(KUBECONFIG_DIR, { recursive: true });
  const file = join(KUBECONFIG_DIR, `kubeconfig-${user.replace(/[^a-z0-9-]/g, '_')}`);
  writeFileSync(file, YAML.stringify(admin), { mode: 0o600 });
  return file;
}

/** Starts the operator in-process as `user`, logs captured in memory. */
async function startAs(user: string, env: Record<string, string>) {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const kubeConfig = loadKubeConfig(impersonatingKubeconfig(user));
  const op = await startOperator({
    config: testConfig(env.WATCH_NAMESPACE ?? '', env),
    kubeConfig,
    log: rootLogger('info', sink),
  });
  operators.push(op);
  return { op, logs };
}

/** rest_client_requests_total by status code, summed over methods. */
async function requestsByCode(op: OperatorHandle): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const line of (await op.metrics.registry.metrics()).split('\n')) {
    const m = /^rest_client_requests_total\{[^}]*code="([^"]+)"[^}]*\} (\d+)/.exec(line);
    if (m) out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
  }
  return out;
}

const forbiddenLogLines = (logs: string[]) => logs.filter((l) => /forbidden|\b403\b/i.test(l));

/** Applies examples/shop.yaml, admits its Ingress and waits for Ready; on timeout the error shows the conditions and the operator's warnings. */
async function shopBecomesReady(appNs: string, logs: string[]) {
  applyObj(example('shop.yaml', appNs));
  await admitIngress(appNs, 'shop-web'); // as an Ingress controller would: ExposureReady waits for its address
  try {
    await eventually(
      'shop Ready=True',
      () => condition(getObj('sapp', appNs, 'shop'), 'Ready')?.status === 'True',
      { timeoutMs: 150_000 },
    );
  } catch (err) {
    const conditions = getObj('sapp', appNs, 'shop')?.status?.conditions ?? [];
    const warnings = logs.filter((l) => /"level":"(warn|error|fatal)"/.test(l)).slice(-10);
    throw new Error(
      `${(err as Error).message}\nconditions: ${JSON.stringify(conditions, null, 1)}\noperator warnings:\n${warnings.join('\n')}`,
      { cause: err },
    );
  }
}

beforeAll(() => {
  helmBin = helmBinary();
}, 900_000);

afterAll(async () => {
  await Promise.all(operators.map((op) => op.stop()));
  if (clusterObjects.length)
    kubectl(['delete', '--ignore-not-found', ...clusterObjects], { allowFail: true });
  for (const ns of namespaces) deleteNamespace(ns);
  rmSync(KUBECONFIG_DIR, { recursive: true, force: true });
}, 60_000);

const uid = () => `${process.pid % 10000}-${Math.random().toString(36).slice(2, 6)}`;

describe('the operator with the chart RBAC for one watched namespace', () => {
  let releaseNs: string;
  let appNs: string;
  let user: string;
  let lease: string;
  let run: Awaited<ReturnType<typeof startAs>>;

  beforeAll(async () => {
    releaseNs = namespace('rbac-op');
    appNs = namespace('rbac-apps');
    ({ user, lease } = installRbac(`rbacns-${uid()}`, releaseNs, ['--set', `watchNamespace=${appNs}`]));
    run = await startAs(user, {
      WATCH_NAMESPACE: appNs,
      ...FAST_LEADER_ELECTION,
      LEASE_NAMESPACE: releaseNs,
      LEASE_NAME: lease,
      LOG_LEVEL: 'info',
    });
  }, 60_000);

  it('really runs as the ServiceAccount (a request outside its permissions is refused)', async () => {
    await expect(
      run.op.client.request('LIST', `/api/v1/namespaces/${releaseNs}/secrets`),
    ).rejects.toMatchObject({ status: 403 });
    // That probe was the test's own; the operator's requests are counted from here.
    expect((await requestsByCode(run.op))['403']).toBe(1);
  });

  it('wins leader election with the Lease in the release namespace', async () => {
    await eventually('leader', () => run.op.isLeader(), { timeoutMs: 20_000 });
    const held = JSON.parse(kubectl(['-n', releaseNs, 'get', 'lease', lease, '-o', 'json']).stdout) as {
      spec: { holderIdentity: string };
    };
    expect(held.spec.holderIdentity).toBeTruthy();
  });

  it('takes examples/shop.yaml to Ready with no request forbidden', async () => {
    await shopBecomesReady(appNs, run.logs);
    await sleep(1000);
    await run.op.controller.queue.idle();
    const codes = await requestsByCode(run.op);
    expect(codes['403']).toBe(1); // only the probe above
    expect(codes['200']).toBeGreaterThan(0);
    expect(forbiddenLogLines(run.logs)).toEqual([]);
    // It created the app's objects (server-side apply with PATCH is all it needs to create).
    expect(getObj('deployment', appNs, 'shop-web')).toBeDefined();
    expect(getObj('secret', appNs, 'shop-binding')).toBeDefined();
  }, 180_000);

  it('stops cleanly, still with no request forbidden (releasing the Lease is an update too)', async () => {
    await run.op.stop();
    expect((await requestsByCode(run.op))['403']).toBe(1); // only the probe
    expect(forbiddenLogLines(run.logs)).toEqual([]);
  }, 30_000);
});

describe('the operator with the chart RBAC for two watched namespaces (a Role in each)', () => {
  let releaseNs: string;
  let appNs: [string, string];
  let user: string;
  let lease: string;
  let objs: { kind: string; metadata: { name: string; namespace?: string } }[];

  beforeAll(() => {
    releaseNs = namespace('rbac2-op');
    appNs = [namespace('rbac2-a'), namespace('rbac2-b')];
    ({ user, lease, objs } = installChartRbac(
      helmBin,
      `rbac2-${uid()}`,
      releaseNs,
      [
        '--set-json',
        `watchNamespace=${JSON.stringify(appNs)}`,
        '--set',
        'rbac.aggregateToDefaultRoles=false',
      ],
      clusterObjects,
    ));
  });

  it('the chart renders no cluster-scoped RBAC object', () => {
    expect(objs.filter((o) => !o.metadata.namespace).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
  });

  it('takes examples/shop.yaml to Ready in both namespaces with no request forbidden', async () => {
    const { op, logs } = await startAs(user, {
      WATCH_NAMESPACE: appNs.join(','),
      ...FAST_LEADER_ELECTION,
      LEASE_NAMESPACE: releaseNs,
      LEASE_NAME: lease,
      LOG_LEVEL: 'info',
    });
    await eventually('leader', () => op.isLeader(), { timeoutMs: 20_000 });
    // One informer per kind per namespace.
    expect(op.controller.caches.informers('ScalableApp').map((i) => i.namespace)).toEqual(appNs);
    await Promise.all(appNs.map((ns) => shopBecomesReady(ns, logs)));
    await sleep(1000);
    await op.controller.queue.idle();
    expect((await requestsByCode(op))['403']).toBeUndefined();
    expect(forbiddenLogLines(logs)).toEqual([]);
    expect(getObj('deployment', appNs[0], 'shop-web')).toBeDefined();
    expect(getObj('deployment', appNs[1], 'shop-web')).toBeDefined();
    await op.stop();
  }, 240_000);
});

describe('the operator with the chart RBAC for every namespace (ClusterRole)', () => {
  let releaseNs: string;
  let appNs: string;
  let user: string;
  let lease: string;

  beforeAll(() => {
    releaseNs = namespace('rbacc-op');
    appNs = namespace('rbacc-apps');
    ({ user, lease } = installRbac(`rbacc-${uid()}`, releaseNs));
  });

  it('takes examples/shop.yaml to Ready with no request forbidden', async () => {
    // Scoped to the test's namespace so that it never reconciles other tests' apps on a shared cluster; the
    // ClusterRole is what authorizes it. The next test covers the cluster-wide watches.
    const { op, logs } = await startAs(user, {
      WATCH_NAMESPACE: appNs,
      ...FAST_LEADER_ELECTION,
      LEASE_NAMESPACE: releaseNs,
      LEASE_NAME: lease,
      LOG_LEVEL: 'info',
    });
    await eventually('leader', () => op.isLeader(), { timeoutMs: 20_000 });
    await shopBecomesReady(appNs, logs);
    await sleep(1000);
    await op.controller.queue.idle();
    expect((await requestsByCode(op))['403']).toBeUndefined();
    expect(forbiddenLogLines(logs)).toEqual([]);
    await op.stop();
  }, 200_000);

  it('lists and watches every kind across all namespaces with no request forbidden', async () => {
    // Another holder keeps the Lease, so this operator syncs its cluster-wide caches but never starts
    // reconciling: nothing outside this test is touched.
    const now = new Date().toISOString().replace(/Z$/, '000Z');
    kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=rbac-test', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: lease, namespace: releaseNs },
        spec: {
          holderIdentity: 'someone-else',
          leaseDurationSeconds: 3600,
          acquireTime: now,
          renewTime: now,
        },
      }),
    });
    const { op, logs } = await startAs(user, {
      WATCH_NAMESPACE: '',
      ...FAST_LEADER_ELECTION,
      LEASE_NAMESPACE: releaseNs,
      LEASE_NAME: lease,
      LOG_LEVEL: 'info',
    });
    expect(op.controller.synced).toBe(true); // startOperator returns after every informer's first list
    expect(op.controller.caches.kinds).toEqual(
      expect.arrayContaining(['ScalableApp', 'Secret', 'Deployment']),
    );
    // An app created now arrives through the cluster-wide watch (and is not reconciled: not the leader).
    applyObj(example('minimal.yaml', appNs, 'probe'));
    await eventually('probe app in the cache', () => op.controller.caches.get('ScalableApp', appNs, 'probe'));
    await sleep(3000); // a few lease polls
    expect(op.isLeader()).toBe(false);
    expect(getObj('sapp', appNs, 'probe')?.status).toBeUndefined();
    expect((await requestsByCode(op))['403']).toBeUndefined();
    expect(forbiddenLogLines(logs)).toEqual([]);
    await op.stop();
  }, 60_000);
});
