// Credentials are generated only when the credentials Secret is known to be absent. A cache miss is confirmed by
// a live read; a read that fails is an error, not an absence. Here the operator runs as a ServiceAccount whose
// Role grants everything it needs but `get` on Secrets (the informer's list and watch, and apply, still work),
// so its live read of the missing Secret is refused with 403: no password may be generated and no Secret
// written. Once `get` is granted, the retried pass reads 404, generates, and the app comes up.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { loadKubeConfig } from '../src/kube/client.js';
import { rootLogger } from '../src/log.js';
import { type OperatorHandle, startOperator } from '../src/operator.js';
import { applyObj, children, condition, example, getObj } from './harness/apps.js';
import { REPO_ROOT, createNamespace, deleteNamespace, kubectl } from './harness/cluster.js';
import { reconcilesByResult, testConfig } from './harness/operator.js';
import { eventually, sleep } from './harness/wait.js';

const ALL = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
const SA = 'sapp-operator-no-get';
const KUBECONFIG_DIR = join(REPO_ROOT, '.local', `credentials-test-${process.pid}`);

let ns: string;
let op: OperatorHandle | undefined;

/** The operator's rules in one namespace; Secrets with `secretVerbs`. */
function role(secretVerbs: string[]) {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: SA, namespace: ns },
    rules: [
      { apiGroups: ['scalable.dev'], resources: ['scalableapps'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['scalable.dev'], resources: ['scalableapps/status'], verbs: ['get', 'update', 'patch'] },
      { apiGroups: [''], resources: ['secrets'], verbs: secretVerbs },
      { apiGroups: [''], resources: ['configmaps', 'services'], verbs: ALL },
      { apiGroups: ['apps'], resources: ['deployments', 'statefulsets'], verbs: ALL },
      { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ALL },
      { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ALL },
      { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies', 'ingresses'], verbs: ALL },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch', 'patch', 'delete'] },
    ],
  };
}

/** The admin kubeconfig with `as: <ServiceAccount>`: every request impersonates it. */
function impersonating(user: string): string {
  const admin = YAML.parse(readFileSync(process.env.KUBECONFIG!, 'utf8')) as {
    users: { user: Record<string, unknown> }[];
  };
  for (const u of admin.users) u.user.as = user;
  mkdirSync(KUBECONFIG_DIR, { recursive: true });
  const file = join(KUBECONFIG_DIR, 'kubeconfig');
  writeFileSync(file, YAML.stringify(admin), { mode: 0o600 });
  return file;
}

/** rest_client_requests_total for one code and method. */
async function requests(code: string, method: string): Promise<number> {
  const text = await op!.metrics.registry.metrics();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('rest_client_requests_total{') &&
        l.includes(`code="${code}"`) &&
        l.includes(`method="${method}"`),
    );
  return line ? Number(line.split(' ').pop()) : 0;
}

beforeAll(async () => {
  ns = createNamespace('creds');
  kubectl(['-n', ns, 'create', 'serviceaccount', SA]);
  kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        role(['list', 'watch', 'create', 'update', 'patch', 'delete']),
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: SA, namespace: ns },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: SA },
          subjects: [{ kind: 'ServiceAccount', name: SA, namespace: ns }],
        },
      ],
    }),
  });
  op = await startOperator({
    config: testConfig(ns),
    kubeConfig: loadKubeConfig(impersonating(`system:serviceaccount:${ns}:${SA}`)),
    log: rootLogger('silent'),
  });
}, 60_000);

afterAll(async () => {
  await op?.stop();
  deleteNamespace(ns);
  rmSync(KUBECONFIG_DIR, { recursive: true, force: true });
});

describe('a live read of the credentials that fails', () => {
  it('runs as the ServiceAccount: get on a Secret is refused, list is not', async () => {
    await expect(
      op!.client.request('GET', `/api/v1/namespaces/${ns}/secrets/anything`),
    ).rejects.toMatchObject({
      status: 403,
    });
    await expect(op!.client.request('LIST', `/api/v1/namespaces/${ns}/secrets`)).resolves.toBeDefined();
  });

  it('is an error, not an absence: no password is generated, no Secret written, the pass fails', async () => {
    const forbiddenBefore = await requests('403', 'GET');
    const errors = async () => reconcilesByResult(await op!.metrics.registry.metrics()).error ?? 0;
    const errorsBefore = await errors();
    const app = example('minimal.yaml', ns, 'creds');
    app.spec!.cache = {}; // Redis has a password, so the app has credentials
    applyObj(app);
    await eventually(
      'the live read refused twice (a pass and its retry)',
      async () => (await requests('403', 'GET')) >= forbiddenBefore + 2,
      { timeoutMs: 30_000 },
    );
    await sleep(1000);
    expect(getObj('secret', ns, 'creds-credentials')).toBeUndefined();
    expect(children(ns, 'creds')).toEqual([]); // nothing built from passwords that might not be the real ones
    expect(await errors()).toBeGreaterThanOrEqual(errorsBefore + 2);
  }, 60_000);

  it('says so in the status: Degraded and Ready False with reason Forbidden (README: Degraded names a forbidden request)', async () => {
    await eventually(
      'Degraded=True',
      () => condition(getObj('sapp', ns, 'creds'), 'Degraded')?.status === 'True',
      {
        timeoutMs: 15_000,
      },
    );
    const app = getObj('sapp', ns, 'creds');
    expect(condition(app, 'Degraded')).toMatchObject({
      reason: 'Forbidden',
      message: expect.stringContaining('creds-credentials'),
    });
    expect(condition(app, 'Ready')).toMatchObject({ status: 'False', reason: 'Forbidden' });
  }, 30_000);

  it('once the read is allowed, the retried pass finds no Secret, generates one and the app comes up', async () => {
    kubectl(['apply', '-f', '-'], { input: JSON.stringify(role(ALL)) });
    await eventually('Ready', () => condition(getObj('sapp', ns, 'creds'), 'Ready')?.status === 'True', {
      timeoutMs: 60_000,
    });
    const secret = getObj('secret', ns, 'creds-credentials') as unknown as { data: Record<string, string> };
    expect(Buffer.from(secret.data.REDIS_PASSWORD!, 'base64').toString()).toMatch(/^[A-Za-z0-9_-]{32}$/);
  }, 90_000);
});
