// The Helm chart against the real API server: `helm lint --strict` and a server-side dry run for every
// scenario in charts/scalable-app-operator/ci/, clear errors for bad values, least-privilege RBAC proved by
// asking the API server (`kubectl auth can-i`) what the operator's ServiceAccount may and may not do, and a
// real `helm install` into a namespace that enforces the `restricted` Pod Security Standard (kwok runs the
// pods, so the image need not exist), an upgrade, and an uninstall that leaves the CRD and ScalableApps alone.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { clusterEnv, createNamespace, deleteNamespace, kubectl, REPO_ROOT } from './harness/cluster.js';
import { applyObj, example, getObj, type Obj } from './harness/apps.js';
import { CHART, helmBinary, helmTemplate, installChartRbac, run, type Run } from './harness/chart.js';
import { eventually } from './harness/wait.js';

const SCENARIOS = readdirSync(join(CHART, 'ci'))
  .filter((f) => f.endsWith('-values.yaml'))
  .sort();

let helmBin: string;
const helm = (args: string[]): Run => run(helmBin, args);
const render = (release: string, namespace: string, args: string[] = []): Obj[] =>
  helmTemplate(helmBin, release, namespace, args);

const uid = () => `${process.pid % 10000}-${Math.random().toString(36).slice(2, 6)}`;
const releases: { name: string; namespace: string }[] = [];
const namespaces: string[] = [];
const clusterObjects: string[] = [];

function namespace(prefix: string, labels: Record<string, string> = {}): string {
  const ns = createNamespace(prefix);
  namespaces.push(ns);
  if (Object.keys(labels).length) {
    kubectl(['label', 'namespace', ns, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)]);
  }
  return ns;
}

const RESTRICTED = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
  'pod-security.kubernetes.io/warn': 'restricted',
  'pod-security.kubernetes.io/warn-version': 'latest',
};

beforeAll(() => {
  helmBin = helmBinary();
}, 900_000);

afterAll(() => {
  for (const r of releases)
    helm(['uninstall', r.name, '--namespace', r.namespace, '--wait', '--timeout', '60s']);
  if (clusterObjects.length)
    kubectl(['delete', '--ignore-not-found', ...clusterObjects], { allowFail: true });
  for (const ns of namespaces) deleteNamespace(ns);
}, 120_000);

describe('helm lint --strict', () => {
  it.each(SCENARIOS)('passes with ci/%s', (file) => {
    const r = helm(['lint', '--strict', CHART, '--values', join(CHART, 'ci', file)]);
    expect(r.stderr + r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(r.code).toBe(0);
  });
});

describe('bad values fail at install with a message that names the value', () => {
  it.each([
    ['replicas=0', "at '/replicas': minimum: got 0, want 1"],
    ['replicas=two', "at '/replicas': got string, want integer"],
    ['watchNamespace=Team_A', "at '/watchNamespace': 'Team_A' does not match pattern"],
    [
      'image.pullPolicy=Sometimes',
      "at '/image/pullPolicy': value must be one of 'IfNotPresent', 'Always', 'Never'",
    ],
    ['image.tag=latest', 'image.tag: `latest` is not allowed'],
    ['replicaCount=3', "additional properties 'replicaCount' not allowed"],
    ['logLevel=verbose', "at '/logLevel': value must be one of"],
    ['httpPort=80', "at '/httpPort': minimum: got 80"],
    ['leaderElection.enabled=false', 'replicas > 1 requires leaderElection.enabled=true'],
    ['leaderElection.renewDeadlineSeconds=20', 'leaseDurationSeconds must exceed renewDeadlineSeconds'],
    ['serviceMonitor.enabled=true,metrics.service.enabled=false', 'requires metrics.service.enabled=true'],
  ])('--set %s', (set, message) => {
    // helm install validates exactly like helm template (same render path); template needs no cluster.
    const r = helm(['template', 'bad', CHART, '--set', set]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
  });

  it.each([
    ['watchNamespace=["shop","Team_A"]', "at '/watchNamespace/1': 'Team_A' does not match pattern"],
    ['watchNamespace=["shop","shop"]', "at '/watchNamespace': items at 0 and 1 are equal"],
    ['watchNamespace="shop,Team_A"', "at '/watchNamespace': 'shop,Team_A' does not match pattern"],
    ['watchNamespace="shop,,blog"', "at '/watchNamespace': 'shop,,blog' does not match pattern"],
    ['watchNamespace=3', "at '/watchNamespace': 'anyOf' failed"],
  ])('--set-json %s', (set, message) => {
    const r = helm(['template', 'bad', CHART, '--set-json', set]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
  });
});

describe('watchNamespace: a list, a comma-separated string, or one name (as before lists)', () => {
  const watched = (args: string[]) => {
    const objs = render('w', 'ops', args);
    const deploy = objs.find((o) => o.kind === 'Deployment')!;
    const env = (
      deploy.spec as { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } }
    ).template.spec.containers[0]!.env;
    return {
      env: env.find((e) => e.name === 'WATCH_NAMESPACE')?.value,
      roles: objs
        .filter((o) => o.kind === 'Role' && !o.metadata.name.endsWith('-leader-election'))
        .map((o) => o.metadata.namespace),
      bindings: objs
        .filter((o) => o.kind === 'RoleBinding' && !o.metadata.name.endsWith('-leader-election'))
        .map((o) => o.metadata.namespace),
      clusterScoped: objs.filter((o) => !o.metadata.namespace).map((o) => `${o.kind}/${o.metadata.name}`),
    };
  };

  it.each([
    [['--set', 'watchNamespace=shop'], 'shop'],
    [['--set', 'watchNamespace=shop\\,blog'], 'shop,blog'],
    [['--set-json', 'watchNamespace=" shop , blog ,shop"'], 'shop,blog'],
    [['--set', 'watchNamespace={shop,blog}'], 'shop,blog'],
    [['--set-json', 'watchNamespace=["shop","blog"]'], 'shop,blog'],
  ])('%j: WATCH_NAMESPACE=%s and a Role + RoleBinding in each', (args, expected) => {
    const names = expected.split(',');
    expect(watched([...args, '--set', 'rbac.aggregateToDefaultRoles=false'])).toEqual({
      env: expected,
      roles: names,
      bindings: names,
      clusterScoped: [],
    });
  });

  it.each([[[]], [['--set', 'watchNamespace=']], [['--set-json', 'watchNamespace=[]']]])(
    '%j: every namespace, a ClusterRole and ClusterRoleBinding',
    (args) => {
      const w = watched([...args, '--set', 'rbac.aggregateToDefaultRoles=false']);
      expect(w).toEqual({
        env: '',
        roles: [],
        bindings: [],
        clusterScoped: [
          expect.stringMatching(/^ClusterRole\//),
          expect.stringMatching(/^ClusterRoleBinding\//),
        ],
      });
    },
  );

  it('with the aggregated user roles on (the default), they are the only cluster-scoped objects, bound to nobody', () => {
    const w = watched(['--set-json', 'watchNamespace=["shop","blog"]']);
    expect(w.clusterScoped).toEqual([
      'ClusterRole/w-scalable-app-operator-edit',
      'ClusterRole/w-scalable-app-operator-view',
    ]);
  });
});

describe.each(SCENARIOS)('rendered with ci/%s', (file) => {
  let objects: Obj[];
  let releaseNs: string;
  const release = `dry-${uid()}`;

  beforeAll(() => {
    releaseNs = namespace('chart-dry', RESTRICTED);
    const values = YAML.parse(readFileSync(join(CHART, 'ci', file), 'utf8')) as {
      watchNamespace?: string | string[];
    };
    // The scenario's namespaces are replaced by as many created here (the dry run needs them to exist).
    const watched = values?.watchNamespace;
    const extra = !watched
      ? []
      : Array.isArray(watched)
        ? ['--set-json', `watchNamespace=${JSON.stringify(watched.map(() => namespace('chart-dry-apps')))}`]
        : ['--set', `watchNamespace=${namespace('chart-dry-apps')}`];
    objects = render(release, releaseNs, ['--values', join(CHART, 'ci', file), ...extra]);
  });

  it('has no wildcard in any RBAC rule', () => {
    const rules = objects
      .filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole')
      .flatMap((o) => (o.rules as Record<string, string[]>[]) ?? []);
    for (const rule of rules) {
      expect(rule.nonResourceURLs).toBeUndefined();
      for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames']) {
        for (const v of rule[field] ?? []) expect(v).not.toContain('*');
      }
    }
  });

  it('is accepted by the API server (server-side dry run, restricted Pod Security, no warnings)', () => {
    const served = run('kubectl', ['api-resources', '--api-group=monitoring.coreos.com', '-o', 'name']);
    const monitoring = served.stdout.includes('servicemonitors');
    // The ServiceMonitor CRD (prometheus-operator) is not installed in the test cluster: its object cannot be
    // dry-run there, so it is left out here and checked structurally in the next test.
    const toApply = objects.filter((o) => monitoring || o.kind !== 'ServiceMonitor');
    const r = run(
      'kubectl',
      ['apply', '--dry-run=server', '--server-side', '--field-manager=chart-test', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: toApply }),
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(toApply.length);
  });

  it('a ServiceMonitor, when rendered, selects the metrics Service by its labels and port name', () => {
    const monitor = objects.find((o) => o.kind === 'ServiceMonitor');
    if (!monitor) {
      expect(file).not.toMatch(/service-monitor/);
      return;
    }
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    const service = objects.find((o) => o.kind === 'Service')!;
    const spec = monitor.spec as {
      selector: { matchLabels: Record<string, string> };
      namespaceSelector: { matchNames: string[] };
      endpoints: { port: string; path: string; interval: string }[];
    };
    expect(service.metadata.labels).toMatchObject(spec.selector.matchLabels);
    expect(spec.namespaceSelector.matchNames).toEqual([releaseNs]);
    const ports = (service.spec as { ports: { name: string }[] }).ports.map((p) => p.name);
    expect(ports).toContain(spec.endpoints[0]!.port);
    expect(spec.endpoints[0]).toMatchObject({ path: '/metrics', interval: '15s' });
    expect(monitor.metadata.labels).toMatchObject({ release: 'prometheus' });
  });

  it('runs the operator the way its config expects (env, probes on the one HTTP port, restricted context)', () => {
    const deploy = objects.find((o) => o.kind === 'Deployment')!;
    const pod = (deploy.spec as { template: { spec: Record<string, unknown> } }).template.spec as {
      securityContext: Record<string, unknown>;
      containers: {
        env: { name: string; value?: string; valueFrom?: unknown }[];
        ports: { name: string; containerPort: number }[];
        livenessProbe: { httpGet: { path: string; port: string } };
        readinessProbe: { httpGet: { path: string; port: string } };
        securityContext: Record<string, unknown>;
        image: string;
      }[];
    };
    const c = pod.containers[0]!;
    const env = Object.fromEntries(c.env.map((e) => [e.name, e.value ?? e.valueFrom]));
    expect(env.POD_NAME).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
    expect(env.POD_NAMESPACE).toEqual({ fieldRef: { fieldPath: 'metadata.namespace' } });
    expect(env.LEASE_NAMESPACE).toBe(releaseNs);
    expect(c.ports).toEqual([
      expect.objectContaining({ name: 'http', containerPort: Number(env.HTTP_PORT) }),
    ]);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(c.image).not.toMatch(/:latest$/);
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(c.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
  });
});

// ---- RBAC, asked of the API server --------------------------------------------------------------------------
//
// A check reads like `kubectl auth can-i`: [verb, resource[.group][/name], namespace | '--all-namespaces',
// '--subresource=x']. All checks go to the API server's authorizer in one batch of SubjectAccessReviews for the
// ServiceAccount (user system:serviceaccount:<ns>:<name> with the groups every ServiceAccount token carries):
// `kubectl auth can-i` itself answers "no" for kinds the server does not serve (HTTPRoute on a cluster without
// the Gateway API CRDs) whatever RBAC says, so it cannot check those; a test below shows both agree elsewhere.

type Check = [verb: string, resource: string, namespace: string, ...extra: string[]];

const CLUSTER_SCOPED = new Set([
  'namespaces',
  'nodes',
  'clusterroles.rbac.authorization.k8s.io',
  'customresourcedefinitions.apiextensions.k8s.io',
  'mutatingwebhookconfigurations.admissionregistration.k8s.io',
]);

function attributes([verb, resource, ns, ...extra]: Check) {
  const [kindGroup, name] = resource.split('/') as [string, string | undefined];
  const dot = kindGroup.indexOf('.');
  const subresource = extra.find((e) => e.startsWith('--subresource='))?.split('=')[1];
  return {
    verb,
    resource: dot < 0 ? kindGroup : kindGroup.slice(0, dot),
    group: dot < 0 ? '' : kindGroup.slice(dot + 1),
    namespace: ns === '--all-namespaces' || CLUSTER_SCOPED.has(kindGroup) ? '' : ns,
    ...(name ? { name } : {}),
    ...(subresource ? { subresource } : {}),
  };
}

/** The authorizer's answer for each check, asked as the ServiceAccount `sa` (system:serviceaccount:ns:name). */
function review(sa: string, checks: Check[]): boolean[] {
  const saNs = sa.split(':')[2]!;
  const items = checks.map((c) => ({
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: sa,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${saNs}`, 'system:authenticated'],
      resourceAttributes: attributes(c),
    },
  }));
  // kubectl prints one object per review; the jsonpath prints one answer line per review, in order.
  const out = kubectl(['create', '-o', 'jsonpath={.status.allowed}{"\\n"}', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }),
  }).stdout;
  const answers = out.split('\n').filter((l) => l !== '');
  if (answers.length !== checks.length) throw new Error(`expected ${checks.length} answers, got: ${out}`);
  return answers.map((a) => a === 'true');
}

const allowedOf = (sa: string, checks: Check[]) => {
  const answers = review(sa, checks);
  return checks.filter((_, i) => answers[i]);
};
const deniedOf = (sa: string, checks: Check[]) => {
  const answers = review(sa, checks);
  return checks.filter((_, i) => !answers[i]);
};

const canI = (user: string, [verb, resource, ns, ...extra]: Check) =>
  run('kubectl', [
    'auth',
    'can-i',
    verb,
    resource,
    ...(ns === '--all-namespaces' ? ['--all-namespaces'] : ['-n', ns]),
    `--as=${user}`,
    ...extra,
  ]);

const OWNED = [
  'configmaps',
  'services',
  'deployments.apps',
  'statefulsets.apps',
  'horizontalpodautoscalers.autoscaling',
  'poddisruptionbudgets.policy',
  'networkpolicies.networking.k8s.io',
  'ingresses.networking.k8s.io',
  'httproutes.gateway.networking.k8s.io',
];

/** What the operator does in a namespace it watches (see src/controller and src/runtime/leader.ts). */
function operatorNeeds(appNs: string | '--all-namespaces'): Check[] {
  return [
    ['list', 'scalableapps.scalable.dev', appNs],
    ['watch', 'scalableapps.scalable.dev', appNs],
    ['patch', 'scalableapps.scalable.dev', appNs, '--subresource=status'],
    ['update', 'scalableapps.scalable.dev', appNs, '--subresource=finalizers'],
    ...(['get', 'list', 'watch', 'create', 'patch', 'delete'].map((v) => [v, 'secrets', appNs]) as Check[]),
    // An object missing from the cache is read (GET) before it is created; server-side apply is a PATCH,
    // which the API server authorizes as create too when the object is new.
    ...OWNED.flatMap((r) =>
      ['get', 'list', 'watch', 'create', 'patch', 'delete'].map((v) => [v, r, appNs] as Check),
    ),
    ['create', 'events', appNs],
    // The replication monitor: database and Redis pods from a cache, their role labels, a fenced primary's
    // deletion, and an old primary's volume claim deleted to copy it again.
    ...(['list', 'watch', 'patch', 'delete'].map((v) => [v, 'pods', appNs]) as Check[]),
    ['delete', 'persistentvolumeclaims', appNs],
  ];
}

const leaseNeeds = (releaseNs: string, lease: string): Check[] => [
  ['create', 'leases.coordination.k8s.io', releaseNs],
  ['get', `leases.coordination.k8s.io/${lease}`, releaseNs],
  ['update', `leases.coordination.k8s.io/${lease}`, releaseNs],
];

/** Never needed, whatever the mode. */
function neverNeeded(ns: string, releaseNs: string, lease: string): Check[] {
  return [
    ['delete', 'namespaces', ns],
    ['create', 'namespaces', ns],
    ['get', 'pods', ns, '--subresource=exec'],
    ['create', 'pods', ns, '--subresource=exec'],
    ['create', 'pods', ns],
    ['update', 'pods', ns],
    ['list', 'persistentvolumeclaims', ns],
    ['create', 'persistentvolumeclaims', ns],
    ['create', 'clusterroles.rbac.authorization.k8s.io', ns],
    ['bind', 'clusterroles.rbac.authorization.k8s.io', ns],
    ['escalate', 'roles.rbac.authorization.k8s.io', ns],
    ['create', 'rolebindings.rbac.authorization.k8s.io', ns],
    ['impersonate', 'serviceaccounts', ns],
    ['create', 'serviceaccounts', ns, '--subresource=token'],
    ['patch', 'nodes', ns],
    ['patch', 'customresourcedefinitions.apiextensions.k8s.io', ns],
    ['create', 'mutatingwebhookconfigurations.admissionregistration.k8s.io', ns],
    // ScalableApps belong to their users: the operator writes status only.
    ['create', 'scalableapps.scalable.dev', ns],
    ['update', 'scalableapps.scalable.dev', ns],
    ['patch', 'scalableapps.scalable.dev', ns],
    ['delete', 'scalableapps.scalable.dev', ns],
    // Server-side apply never needs PUT.
    ['update', 'deployments.apps', ns],
    ['update', 'secrets', ns],
    ['deletecollection', 'secrets', ns],
    ['update', 'events', ns],
    // Leases: only its own, and never deleted or listed.
    ['get', 'leases.coordination.k8s.io/someone-elses-lease', releaseNs],
    ['update', 'leases.coordination.k8s.io/someone-elses-lease', releaseNs],
    ['delete', `leases.coordination.k8s.io/${lease}`, releaseNs],
    ['list', 'leases.coordination.k8s.io', releaseNs],
  ];
}

const crd = (): Obj | undefined => {
  const r = kubectl(['get', 'crd', 'scalableapps.scalable.dev', '-o', 'json'], { allowFail: true });
  return r.code === 0 ? (JSON.parse(r.stdout) as Obj) : undefined;
};

const show = (c: Check) => c.join(' ');

/** Installs only the chart's ServiceAccount and RBAC, as rendered; returns the names the checks need. */
const installRbac = (release: string, releaseNs: string, args: string[]) => {
  const { objs, user, lease } = installChartRbac(helmBin, release, releaseNs, args, clusterObjects);
  return { objs, sa: user, lease };
};

describe('RBAC when watching every namespace (ClusterRole)', () => {
  let releaseNs: string;
  let appNs: string;
  let sa: string;
  let lease: string;

  beforeAll(() => {
    releaseNs = namespace('chart-rbac-op');
    appNs = namespace('chart-rbac-apps');
    ({ sa, lease } = installRbac(`rbac-${uid()}`, releaseNs, []));
  });

  it('can do everything the operator does, in any namespace and across all of them', () => {
    const needs: Check[] = [
      ...operatorNeeds(appNs),
      ...operatorNeeds('default'),
      ...operatorNeeds('--all-namespaces'),
      ...leaseNeeds(releaseNs, lease),
    ];
    expect(deniedOf(sa, needs).map(show)).toEqual([]);
  });

  it('can do nothing more', () => {
    const more: Check[] = [
      ...neverNeeded(appNs, releaseNs, lease),
      ...neverNeeded('kube-system', releaseNs, lease),
      ['create', 'leases.coordination.k8s.io', appNs],
      ['get', `leases.coordination.k8s.io/${lease}`, appNs],
    ];
    expect(allowedOf(sa, more).map(show)).toEqual([]);
  });

  it('kubectl auth can-i gives the same answers as the batch review (for kinds the server serves)', () => {
    const checks: Check[] = [
      ['list', 'secrets', '--all-namespaces'],
      ['patch', 'deployments.apps', appNs],
      ['patch', 'scalableapps.scalable.dev', appNs, '--subresource=status'],
      ['update', `leases.coordination.k8s.io/${lease}`, releaseNs],
      ['delete', 'namespaces', appNs],
      ['create', 'pods', appNs, '--subresource=exec'],
      ['create', 'clusterroles.rbac.authorization.k8s.io', appNs],
      ['update', 'scalableapps.scalable.dev', appNs],
    ];
    const viaCanI = checks.map((c) => canI(sa, c).stdout.trim());
    expect(viaCanI).toEqual(review(sa, checks).map((a) => (a ? 'yes' : 'no')));
    expect(viaCanI).toEqual(['yes', 'yes', 'yes', 'yes', 'no', 'no', 'no', 'no']);
  });
});

describe('RBAC when watching two namespaces (a Role in each, nothing cluster-wide)', () => {
  let releaseNs: string;
  let appNs: string[];
  let otherNs: string;
  let sa: string;
  let lease: string;
  let objs: Obj[];

  beforeAll(() => {
    releaseNs = namespace('chart-rbac2-op');
    appNs = [namespace('chart-rbac2-a'), namespace('chart-rbac2-b')];
    otherNs = namespace('chart-rbac2-other');
    ({ sa, lease, objs } = installRbac(`rbac2-${uid()}`, releaseNs, [
      '--set-json',
      `watchNamespace=${JSON.stringify(appNs)}`,
      '--set',
      'rbac.aggregateToDefaultRoles=false',
    ]));
  });

  it('renders no cluster-scoped RBAC object at all', () => {
    expect(objs.filter((o) => !o.metadata.namespace).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
  });

  it('can do everything the operator does in each watched namespace', () => {
    const needs = [...operatorNeeds(appNs[0]!), ...operatorNeeds(appNs[1]!), ...leaseNeeds(releaseNs, lease)];
    expect(deniedOf(sa, needs).map(show)).toEqual([]);
  });

  it('cannot touch any other namespace, nor list across namespaces, nor do more in its own', () => {
    const more: Check[] = [
      ...operatorNeeds(otherNs),
      ...operatorNeeds(releaseNs),
      ...operatorNeeds('--all-namespaces'),
      ...neverNeeded(appNs[0]!, releaseNs, lease),
      ...neverNeeded(appNs[1]!, releaseNs, lease),
    ];
    expect(allowedOf(sa, more).map(show)).toEqual([]);
  });
});

describe('RBAC when watching one namespace (watchNamespace: a Role there, nothing cluster-wide)', () => {
  let releaseNs: string;
  let appNs: string;
  let otherNs: string;
  let sa: string;
  let lease: string;
  let objs: Obj[];

  beforeAll(() => {
    releaseNs = namespace('chart-rbacns-op');
    appNs = namespace('chart-rbacns-apps');
    otherNs = namespace('chart-rbacns-other');
    ({ sa, lease, objs } = installRbac(`rbacns-${uid()}`, releaseNs, ['--set', `watchNamespace=${appNs}`]));
  });

  it('creates no cluster-scoped permission for the operator', () => {
    const operatorKinds = objs
      .filter((o) => !o.metadata.name.endsWith('-edit') && !o.metadata.name.endsWith('-view'))
      .map((o) => `${o.kind}/${o.metadata.namespace ?? '(cluster)'}`);
    expect(operatorKinds.filter((k) => k.includes('(cluster)'))).toEqual([]);
  });

  it('can do everything the operator does in the watched namespace', () => {
    expect(deniedOf(sa, [...operatorNeeds(appNs), ...leaseNeeds(releaseNs, lease)]).map(show)).toEqual([]);
  });

  it('cannot touch any other namespace, nor list across namespaces, nor do more in its own', () => {
    const more: Check[] = [
      ...operatorNeeds(otherNs),
      ...operatorNeeds(releaseNs),
      ...operatorNeeds('--all-namespaces'),
      ...neverNeeded(appNs, releaseNs, lease),
      ['create', 'leases.coordination.k8s.io', appNs],
    ];
    expect(allowedOf(sa, more).map(show)).toEqual([]);
  });
});

// ---- NOTES ------------------------------------------------------------------------------------------------------

describe('NOTES: the first-app command works as printed when watchNamespace is set', () => {
  it.each([
    ['one watched namespace', (a: string, _b: string) => ['--set', `watchNamespace=${a}`]],
    ['two watched namespaces', (a: string, b: string) => ['--set-json', `watchNamespace=["${a}","${b}"]`]],
  ])('%s: the printed apply creates the shop in the first of them (server-side dry run)', (_name, values) => {
    const appNs = namespace('chart-notes');
    const other = namespace('chart-notes');
    const r = helm([
      'install',
      `notes-${uid()}`,
      CHART,
      '--namespace',
      namespace('chart-notes-rel'),
      '--dry-run=client',
      ...values(appNs, other),
    ]);
    expect(r.code).toBe(0);
    const notes = r.stdout.slice(r.stdout.indexOf('NOTES:'));
    const apply = notes
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l.includes('examples/shop.yaml') && l.includes('kubectl apply'));
    expect(apply).toBeDefined();
    expect(notes).toContain(`kubectl wait -n ${appNs} --for=condition=Ready sapp/shop`);
    const applied = spawnSync(
      'bash',
      ['-c', apply!.replace('kubectl apply', 'kubectl apply --dry-run=server -o json')],
      { cwd: REPO_ROOT, env: { ...process.env, ...clusterEnv() }, encoding: 'utf8' },
    );
    expect(applied.stderr).toBe('');
    expect(applied.status).toBe(0);
    const obj = JSON.parse(applied.stdout) as Obj;
    expect(obj).toMatchObject({ kind: 'ScalableApp', metadata: { name: 'shop', namespace: appNs } });
  });
});

// ---- A real install -------------------------------------------------------------------------------------------

describe('helm install into a namespace that enforces the restricted Pod Security Standard', () => {
  let releaseNs: string;
  let appNs: string;
  const release = `inst-${uid()}`;
  const fullname = `${release}-scalable-app-operator`;

  beforeAll(() => {
    releaseNs = namespace('chart-inst', RESTRICTED);
    appNs = namespace('chart-inst-apps');
  });

  it('installs; the operator pods are admitted and become Ready on the (kwok) nodes', () => {
    const r = helm(['install', release, CHART, '--namespace', releaseNs, '--wait', '--timeout', '180s']);
    releases.push({ name: release, namespace: releaseNs });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('STATUS: deployed');
    expect(r.stdout).toContain('kubectl apply -f examples/shop.yaml');
    expect(r.stdout).toContain('kubectl wait -n shop --for=condition=Ready sapp/shop');
    const pods = JSON.parse(
      kubectl(['-n', releaseNs, 'get', 'pods', '-l', `app.kubernetes.io/instance=${release}`, '-o', 'json'])
        .stdout,
    ).items as { spec: { nodeName: string }; status: { conditions: { type: string; status: string }[] } }[];
    expect(pods).toHaveLength(2);
    for (const p of pods) {
      expect(p.spec.nodeName).toMatch(/^kwok-node-/);
      expect(p.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    }
  }, 240_000);

  it('would reject a pod that breaks the restricted standard (the namespace really enforces it)', () => {
    const r = run('kubectl', [
      '-n',
      releaseNs,
      'run',
      'root-pod',
      '--image=busybox:1.37',
      '--restart=Never',
      '--dry-run=server',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('violates PodSecurity "restricted:latest"');
  });

  it('aggregates ScalableApp permissions into the built-in edit and view roles', async () => {
    kubectl(['-n', appNs, 'create', 'rolebinding', 'dev-edit', '--clusterrole=edit', '--user=dev']);
    kubectl(['-n', appNs, 'create', 'rolebinding', 'auditor-view', '--clusterrole=view', '--user=auditor']);
    await eventually(
      'edit aggregated',
      () => canI('dev', ['create', 'scalableapps.scalable.dev', appNs]).code === 0,
    );
    expect(canI('dev', ['update', 'scalableapps.scalable.dev', appNs, '--subresource=scale']).code).toBe(0);
    await eventually(
      'view aggregated',
      () => canI('auditor', ['list', 'scalableapps.scalable.dev', appNs]).code === 0,
    );
    expect(canI('auditor', ['create', 'scalableapps.scalable.dev', appNs]).code).not.toBe(0);
  }, 60_000);

  it('upgrades in place (helm upgrade --reuse-values)', () => {
    const r = helm([
      'upgrade',
      release,
      CHART,
      '--namespace',
      releaseNs,
      '--reuse-values',
      '--set',
      'logLevel=debug',
      '--wait',
      '--timeout',
      '180s',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const deploy = getObj('deployment', releaseNs, fullname)!;
    const env = (
      deploy.spec as { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } }
    ).template.spec.containers[0]!.env;
    expect(env.find((e) => e.name === 'LOG_LEVEL')?.value).toBe('debug');
    expect(helm(['history', release, '--namespace', releaseNs]).stdout).toMatch(/\n2\s.*deployed/);
  }, 240_000);

  it('helm uninstall removes the operator and its RBAC but keeps the CRD and users\u2019 ScalableApps', () => {
    applyObj(example('shop.yaml', appNs));
    const crdBefore = crd()!;
    // Helm installs crds/ once and never deletes them: no release owns the CRD.
    expect(crdBefore.metadata.labels?.['app.kubernetes.io/managed-by']).toBeUndefined();

    const r = helm(['uninstall', release, '--namespace', releaseNs, '--wait', '--timeout', '120s']);
    expect(r.code).toBe(0);
    releases.splice(
      releases.findIndex((x) => x.name === release),
      1,
    );

    expect(getObj('deployment', releaseNs, fullname)).toBeUndefined();
    expect(kubectl(['get', 'clusterrole', fullname], { allowFail: true }).code).not.toBe(0);
    expect(kubectl(['get', 'clusterrolebinding', fullname], { allowFail: true }).code).not.toBe(0);
    const crdAfter = crd();
    expect(crdAfter?.metadata.uid).toBe(crdBefore.metadata.uid);
    expect(getObj('sapp', appNs, 'shop')?.metadata.name).toBe('shop');
  }, 180_000);
});
