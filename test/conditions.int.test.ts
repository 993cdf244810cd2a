// The Progressing and Degraded conditions, and "nothing half-applied", on the API server: a rollout that cannot
// finish (its new pods ask for more CPU than any node has) shows as Progressing; an apply the API server
// rejects (a ValidatingAdmissionPolicy denies one object of the app) shows as Degraded with the server's reason,
// and leaves every other object exactly as it was, with no new object created.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { OperatorHandle } from '../src/operator.js';
import {
  applyObj,
  childKey,
  children,
  condition,
  example,
  getObj,
  type Obj,
  eventsOf,
} from './harness/apps.js';
import { createNamespace, deleteNamespace, kubectl } from './harness/cluster.js';
import { startInProcess } from './harness/operator.js';
import { eventually, sleep } from './harness/wait.js';

let ns: string;
let op: OperatorHandle;
const policies: string[] = [];

beforeAll(async () => {
  ns = createNamespace('cond');
  op = await startInProcess(ns);
}, 60_000);

afterAll(async () => {
  await op?.stop();
  for (const p of policies) {
    kubectl(
      [
        'delete',
        '--ignore-not-found',
        `validatingadmissionpolicybinding/${p}`,
        `validatingadmissionpolicy/${p}`,
      ],
      {
        allowFail: true,
      },
    );
  }
  deleteNamespace(ns);
}, 60_000);

const app = (name: string) => getObj('sapp', ns, name);
const conditionOf = (name: string, type: string) => {
  const c = condition(app(name), type);
  return c && { status: c.status, reason: c.reason };
};
const isReady = (name: string) => condition(app(name), 'Ready')?.status === 'True';
const withWeb = (o: Obj, web: Record<string, unknown>): Obj => ({
  ...o,
  spec: { ...o.spec, web: { ...(o.spec!.web as object), ...web } },
});
const versions = (name: string) =>
  new Map(children(ns, name).map((o) => [childKey(o), o.metadata.resourceVersion]));

describe('Progressing', () => {
  it('is True while a web rollout cannot finish, and False (Stable) once it has', async () => {
    const base = example('minimal.yaml', ns, 'roll');
    applyObj(base);
    await eventually('roll Ready', () => isReady('roll'), { timeoutMs: 60_000 });
    expect(conditionOf('roll', 'Progressing')).toEqual({ status: 'False', reason: 'Stable' });

    // New pods that no node can take (each kwok node has 32 CPUs): the old pods keep serving (maxUnavailable 0),
    // the rollout waits.
    applyObj(withWeb(base, { resources: { requests: { cpu: '64' } } }));
    await eventually('Progressing=True', () => conditionOf('roll', 'Progressing')?.status === 'True', {
      timeoutMs: 30_000,
    });
    const stuck = app('roll')!;
    expect(conditionOf('roll', 'Progressing')).toEqual({ status: 'True', reason: 'RollingOut' });
    expect(condition(stuck, 'Progressing')!.message).toContain('WebReady');
    expect(conditionOf('roll', 'WebReady')?.status).toBe('False');
    expect(conditionOf('roll', 'Ready')).toEqual({ status: 'False', reason: 'ComponentsNotReady' });
    expect(conditionOf('roll', 'Degraded')).toEqual({ status: 'False', reason: 'AsExpected' });
    expect(stuck.status!.observedGeneration).toBe(stuck.metadata.generation); // applied, still rolling out

    applyObj(withWeb(base, { resources: { requests: { cpu: '100m' } } }));
    await eventually('Ready again', () => isReady('roll'), { timeoutMs: 60_000 });
    expect(conditionOf('roll', 'Progressing')).toEqual({ status: 'False', reason: 'Stable' });
  }, 150_000);
});

describe('an apply the API server rejects', () => {
  const policy = () => `sapp-test-deny-${ns}`.slice(0, 63);

  /** A ValidatingAdmissionPolicy (CEL) in this namespace that refuses one Deployment by name, as 422 Invalid. */
  function denyDeployment(name: string) {
    policies.push(policy());
    kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            apiVersion: 'admissionregistration.k8s.io/v1',
            kind: 'ValidatingAdmissionPolicy',
            metadata: { name: policy() },
            spec: {
              failurePolicy: 'Fail',
              matchConstraints: {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
                resourceRules: [
                  {
                    apiGroups: ['apps'],
                    apiVersions: ['v1'],
                    operations: ['CREATE', 'UPDATE'],
                    resources: ['deployments'],
                  },
                ],
              },
              validations: [
                {
                  expression: `object.metadata.name != '${name}'`,
                  message: `${name} is frozen by a test policy`,
                  reason: 'Invalid',
                },
              ],
            },
          },
          {
            apiVersion: 'admissionregistration.k8s.io/v1',
            kind: 'ValidatingAdmissionPolicyBinding',
            metadata: { name: policy() },
            spec: { policyName: policy(), validationActions: ['Deny'] },
          },
        ],
      }),
    });
  }

  it('shows Degraded with the reason, changes no object and creates none; and recovers once allowed', async () => {
    const base = example('minimal.yaml', ns, 'deny');
    base.spec!.cache = { maxMemory: '100mb' };
    applyObj(base);
    await eventually('deny Ready', () => isReady('deny'), { timeoutMs: 60_000 });
    await sleep(500);
    await op.controller.queue.idle();

    denyDeployment('deny-web');
    // Policies take effect within a second or so: wait until the API server refuses a change to that Deployment.
    await eventually(
      'policy in force',
      () =>
        kubectl(['-n', ns, 'annotate', 'deployment', 'deny-web', 'probe=1', '--dry-run=server'], {
          allowFail: true,
        }).code !== 0,
      { timeoutMs: 30_000 },
    );
    const before = versions('deny');
    const generation = app('deny')!.status!.observedGeneration;

    // One change touching three existing objects (the Redis config and StatefulSet, applied before the web
    // Deployment, and the web Deployment) and adding a component (the workers Deployment); only the web
    // Deployment is refused.
    const changed = withWeb(base, { image: 'registry.k8s.io/e2e-test-images/agnhost:2.52' });
    changed.spec!.cache = { maxMemory: '200mb' };
    changed.spec!.workers = { command: ['sleep', 'infinity'] };
    applyObj(changed);
    await eventually('Degraded=True', () => conditionOf('deny', 'Degraded')?.status === 'True', {
      timeoutMs: 30_000,
    });
    const degraded = condition(app('deny'), 'Degraded')!;
    expect(degraded.reason).toBe('Invalid');
    expect(degraded.message).toContain('Deployment deny-web');
    expect(degraded.message).toContain('deny-web is frozen by a test policy');
    expect(conditionOf('deny', 'Ready')).toEqual({ status: 'False', reason: 'Invalid' });
    expect(app('deny')!.status!.observedGeneration).toBe(generation); // this generation was not applied

    await sleep(1000);
    await op.controller.queue.idle();
    expect(versions('deny')).toEqual(before); // every object as it was, no object added
    expect(getObj('deployment', ns, 'deny-workers')).toBeUndefined();
    // A Warning event with the condition's reason says what failed.
    const events = eventsOf(ns, 'involvedObject.name=deny,type=Warning,reason=Invalid');
    expect(events).toContainEqual(
      expect.objectContaining({ message: expect.stringContaining('deny-web is frozen') }),
    );

    // Allowed again: retrying cannot fix a rejected object, so the operator waits for a change; a touch of the
    // app is one.
    kubectl([
      'delete',
      `validatingadmissionpolicybinding/${policy()}`,
      `validatingadmissionpolicy/${policy()}`,
    ]);
    await eventually(
      'policy gone',
      () =>
        kubectl(['-n', ns, 'annotate', 'deployment', 'deny-web', 'probe=1', '--dry-run=server'], {
          allowFail: true,
        }).code === 0,
      { timeoutMs: 30_000 },
    );
    kubectl(['-n', ns, 'annotate', 'sapp', 'deny', `touched=${Date.now()}`, '--overwrite']);
    await eventually(
      'Ready with every change',
      () => isReady('deny') && getObj('deployment', ns, 'deny-workers'),
      {
        timeoutMs: 60_000,
      },
    );
    expect(conditionOf('deny', 'Degraded')).toEqual({ status: 'False', reason: 'AsExpected' });
    expect(JSON.stringify(getObj('configmap', ns, 'deny-cache-config')!.data)).toContain('200mb');
    expect(JSON.stringify(getObj('deployment', ns, 'deny-web')!.spec)).toContain('agnhost:2.52');
  }, 180_000);
});
