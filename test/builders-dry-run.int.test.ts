// Every object the builders produce, for every example and every edge case of BUILD_CASES, is accepted by a real
// API server: a server-side apply dry run with strict field validation, in a test namespace. Nothing is created.
//
// The namespace enforces the `restricted` Pod Security Standard. Pod Security admission checks workloads
// (Deployments, StatefulSets) only with warn and audit, and enforces on Pods alone, so each pod template is
// also dry-run as the Pod its controller would create.
//
// HTTPRoute (gateway.networking.k8s.io) is checked against the Gateway API CRDs the suite's global setup
// installs (experimental channel, pinned in hack/gateway-api.sh: cookie sessionPersistence is an experimental
// field).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { V1PodTemplateSpec, V1StatefulSetSpec } from '@kubernetes/client-node';
import { buildAll } from '../src/builders/index.js';
import { FIELD_MANAGER } from '../src/builders/meta.js';
import type { BuildContext, K8sObject } from '../src/builders/types.js';
import { BUILD_CASES, buildContext, exampleContexts } from './fixtures/build-context.js';
import { withCache, withDatabase } from './fixtures/scalable-app.js';
import { createNamespace, deleteNamespace, kubectl } from './harness/cluster.js';

/** Kinds left out of the dry run, each with the reason (none today). */
const NOT_VALIDATED: Record<string, string> = {};

const CASES: [string, BuildContext][] = [
  ...exampleContexts().map(([file, ctx]): [string, BuildContext] => [`example ${file}`, ctx]),
  ...BUILD_CASES.map(({ name, mods }): [string, BuildContext] => [name, buildContext(...mods)]),
];

const RESTRICTED = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
};

let ns: string;
beforeAll(() => {
  ns = createNamespace('builders');
  kubectl(['label', 'namespace', ns, ...Object.entries(RESTRICTED).map(([k, v]) => `${k}=${v}`)]);
});
afterAll(() => deleteNamespace(ns));

/** Server-side apply dry run of the objects in the test namespace; returns the names kubectl reports. */
function dryRun(objects: readonly K8sObject[]): string[] {
  const items = objects.map((o) => ({ ...o, metadata: { ...o.metadata, namespace: ns } }));
  const result = kubectl(
    [
      'apply',
      '--server-side',
      '--dry-run=server',
      '--validate=strict',
      `--field-manager=${FIELD_MANAGER}`,
      '-o',
      'name',
      '-f',
      '-',
    ],
    { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }), allowFail: true },
  );
  if (result.code !== 0) throw new Error(result.stderr);
  return result.stdout.split('\n').filter((line) => line !== '');
}

/**
 * The Pod each workload's controller would create from its template: a StatefulSet's pods also get a volume
 * for each claim template (the claim of ordinal 0).
 */
function podsOf(objects: readonly K8sObject[]): K8sObject[] {
  return objects
    .filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')
    .map((o) => {
      const spec = o.spec as { template: V1PodTemplateSpec } & Partial<V1StatefulSetSpec>;
      const claims = (spec.volumeClaimTemplates ?? []).map((c) => ({
        name: c.metadata!.name!,
        persistentVolumeClaim: { claimName: `${c.metadata!.name}-${o.metadata.name}-0` },
      }));
      const pod = spec.template.spec!;
      return {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `${o.metadata.name}-0`, labels: { ...spec.template.metadata?.labels } },
        spec: { ...pod, volumes: [...(pod.volumes ?? []), ...claims] },
      };
    });
}

describe('built objects pass a server-side dry run', () => {
  it.each(CASES)('%s', (_name, ctx) => {
    const objects = buildAll(ctx).filter((o) => !(o.kind in NOT_VALIDATED));
    expect(objects.length).toBeGreaterThan(0);
    const accepted = dryRun(objects);
    expect(accepted).toHaveLength(objects.length);
    for (const o of objects) expect(accepted).toContainEqual(expect.stringContaining(`/${o.metadata.name}`));
  });
});

describe('every pod template is admitted under the restricted Pod Security Standard', () => {
  it.each(CASES)('%s', (_name, ctx) => {
    const pods = podsOf(buildAll(ctx));
    expect(pods.length).toBeGreaterThan(0);
    expect(dryRun(pods)).toEqual(pods.map((p) => `pod/${p.metadata.name}`));
  });

  it('a pod template that is not restricted fails the check (the check can fail)', () => {
    const ctx = buildContext(withDatabase(), withCache());
    for (const kind of ['Deployment', 'StatefulSet']) {
      const workload = buildAll(ctx).find((o) => o.kind === kind)!;
      const [pod] = podsOf([workload]) as [
        K8sObject & { spec: { containers: { securityContext?: object }[] } },
      ];
      pod.spec.containers[0]!.securityContext = { allowPrivilegeEscalation: true };
      expect(() => dryRun([pod])).toThrow(/violates PodSecurity "restricted:latest"/);
    }
  });
});

describe('the dry run', () => {
  it('an object the API server rejects fails the dry run (the check can fail)', () => {
    const [deployment] = buildAll(buildContext()).filter((o) => o.kind === 'Deployment');
    const broken = { ...deployment!, spec: { ...(deployment!.spec as object), replicas: 'two' } };
    expect(() => dryRun([broken])).toThrow(/replicas/);
  });

  it('an unknown field fails the dry run (strict validation)', () => {
    const [deployment] = buildAll(buildContext()).filter((o) => o.kind === 'Deployment');
    expect(() => dryRun([{ ...deployment!, spec: { ...(deployment!.spec as object), replica: 2 } }])).toThrow(
      /unknown field/,
    );
  });

  it('leaves out only the kinds listed with a reason', () => {
    const kinds = new Set(CASES.flatMap(([, ctx]) => buildAll(ctx).map((o) => o.kind)));
    for (const kind of Object.keys(NOT_VALIDATED)) expect(kinds).toContain(kind);
    expect(kinds).toContain('HTTPRoute');
    expect(Object.keys(NOT_VALIDATED)).toEqual([]);
  });

  it('checks HTTPRoute sessionPersistence against the CRD (a wrong timeout fails)', () => {
    const { mods } = BUILD_CASES.find((c) => c.name === 'cookie affinity on a Gateway listener')!;
    const [route] = buildAll(buildContext(...mods)).filter((o) => o.kind === 'HTTPRoute');
    const spec = route!.spec as { rules: { sessionPersistence?: object }[] };
    expect(spec.rules[0]!.sessionPersistence).toBeDefined();
    const rules = [
      {
        ...spec.rules[0]!,
        sessionPersistence: { ...spec.rules[0]!.sessionPersistence, absoluteTimeout: '1d' },
      },
    ];
    expect(() => dryRun([{ ...route!, spec: { ...spec, rules } }])).toThrow(/absoluteTimeout/);
  });
});
