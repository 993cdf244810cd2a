import { describe, expect, it } from '@jest/globals';
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { buildContext, editedContext } from '../../test/fixtures/build-context.js';
import {
  type Modifier,
  withCache,
  withDatabase,
  withField,
  withWeb,
  withWorkers,
} from '../../test/fixtures/scalable-app.js';
import { OPERATOR_LABELS, OPERATOR_PREFIX, type ScalableApp } from '../api/v1alpha1/index.js';
import { buildCache } from './cache/index.js';
import { buildDatabase } from './database/index.js';
import { containerSecurityContext, podSecurityContext } from './data-tier/stateful.js';
import { restrictedPodSecurityContext } from './app-pod/security.js';
import { podLabels, podSecurityContextWith, podSpecOptions } from './pod-options.js';
import { BuildError, type BuildContext, type K8sObject } from './types.js';
import { buildWebDeployment } from './web/deployment.js';
import { buildWorkersDeployment } from './workers/deployment.js';

type Tier = 'web' | 'workers' | 'cache' | 'database';

const TIERS: { tier: Tier; mods: Modifier[]; templates: (ctx: BuildContext) => V1PodTemplateSpec[] }[] = [
  { tier: 'web', mods: [], templates: (ctx) => [buildWebDeployment(ctx).spec!.template] },
  {
    tier: 'workers',
    mods: [withWorkers()],
    templates: (ctx) => [buildWorkersDeployment(ctx)!.spec!.template],
  },
  { tier: 'cache', mods: [withCache()], templates: (ctx) => statefulSetTemplates(buildCache(ctx)) },
  { tier: 'database', mods: [withDatabase()], templates: (ctx) => statefulSetTemplates(buildDatabase(ctx)) },
];

function statefulSetTemplates(objects: K8sObject[] | undefined): V1PodTemplateSpec[] {
  const sets = (objects ?? []).filter((o) => o.kind === 'StatefulSet');
  expect(sets.length).toBeGreaterThan(0);
  return sets.map((s) => (s.spec as { template: V1PodTemplateSpec }).template);
}

const OPTIONS = {
  securityContext: { runAsUser: 1001, runAsGroup: 1002, fsGroup: 1003 },
  imagePullSecrets: [{ name: 'registry' }],
  nodeSelector: { 'kubernetes.io/arch': 'amd64' },
  tolerations: [
    { key: 'dedicated', operator: 'Equal' as const, value: 'shop', effect: 'NoSchedule' as const },
  ],
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }],
      },
    },
  },
  labels: { team: 'shop', 'app.kubernetes.io/version': '1.2.3' },
  annotations: { 'prometheus.io/scrape': 'true' },
  serviceAccountName: 'shop-sa',
  automountServiceAccountToken: true,
};

describe.each(TIERS)('spec.$tier.pod', ({ tier, mods, templates }) => {
  const plain = templates(buildContext(...mods));
  const withOptions = templates(buildContext(...mods, withField(`${tier}.pod`, OPTIONS)));

  it('every option reaches every pod template of the tier', () => {
    for (const t of withOptions) {
      const spec = t.spec!;
      expect(spec.imagePullSecrets).toEqual([{ name: 'registry' }]);
      expect(spec.nodeSelector).toEqual({ 'kubernetes.io/arch': 'amd64' });
      expect(spec.tolerations).toEqual(OPTIONS.tolerations);
      expect(spec.affinity?.nodeAffinity).toEqual(OPTIONS.affinity.nodeAffinity);
      expect(spec.serviceAccountName).toBe('shop-sa');
      expect(spec.automountServiceAccountToken).toBe(true);
      expect(spec.securityContext).toMatchObject({ runAsUser: 1001, runAsGroup: 1002, fsGroup: 1003 });
      expect(t.metadata!.labels).toMatchObject(OPTIONS.labels);
      expect(t.metadata!.annotations).toMatchObject(OPTIONS.annotations);
    }
  });

  it('keeps the pods restricted: runAsNonRoot, seccomp, and the operator labels and annotations stand', () => {
    withOptions.forEach((t, i) => {
      expect(t.spec!.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      for (const c of t.spec!.containers) {
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        });
      }
      expect(t.metadata!.labels).toMatchObject(plain[i]!.metadata!.labels!);
      expect(t.metadata!.annotations).toMatchObject(plain[i]!.metadata!.annotations ?? {});
    });
  });

  it('without options the pod templates are exactly as before', () => {
    const emptyOptions = templates(buildContext(...mods, withField(`${tier}.pod`, {})));
    expect(emptyOptions).toEqual(plain);
    for (const t of plain) {
      expect(t.spec!.automountServiceAccountToken).toBe(false);
      for (const key of ['imagePullSecrets', 'nodeSelector', 'tolerations', 'serviceAccountName']) {
        expect(t.spec).not.toHaveProperty(key);
      }
    }
  });

  it('a label the operator sets is a BuildError naming the field, even past the API', () => {
    const ctx = editedContext(
      (app: ScalableApp) => {
        const section = app.spec[tier]!;
        section.pod = { labels: { 'app.kubernetes.io/component': 'other' } };
      },
      ...mods,
    );
    expect(() => templates(ctx)).toThrow(BuildError);
    expect(() => templates(ctx)).toThrow(
      `spec.${tier}.pod.labels[app.kubernetes.io/component]: is set by the operator and may not be overridden`,
    );
  });

  it('runAsUser 0 is a BuildError naming the field, even past the API', () => {
    const ctx = editedContext(
      (app: ScalableApp) => {
        app.spec[tier]!.pod = { securityContext: { runAsUser: 0 } };
      },
      ...mods,
    );
    expect(() => templates(ctx)).toThrow(`spec.${tier}.pod.securityContext.runAsUser: must not be 0`);
  });
});

describe('data tier ids', () => {
  it.each([
    ['cache', withCache(), (ctx: BuildContext) => statefulSetTemplates(buildCache(ctx))],
    ['database', withDatabase(), (ctx: BuildContext) => statefulSetTemplates(buildDatabase(ctx))],
  ] as const)('%s: the user ids replace 999 in the pod and the container', (tier, mod, templates) => {
    const [t] = templates(
      buildContext(mod, withField(`${tier}.pod`, { securityContext: { runAsUser: 1001 } })),
    );
    expect(t!.spec!.securityContext).toMatchObject({ runAsUser: 1001, runAsGroup: 999, fsGroup: 999 });
    expect(t!.spec!.containers[0]!.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1001,
      runAsGroup: 999,
    });
  });

  it("database: a user podAntiAffinity replaces the operator's spreading, a nodeAffinity joins it", () => {
    const spread = statefulSetTemplates(buildDatabase(buildContext(withDatabase())))[0]!.spec!.affinity!;
    const own = { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'zone' }] };
    const [replaced] = statefulSetTemplates(
      buildDatabase(
        buildContext(withDatabase(), withField('database.pod', { affinity: { podAntiAffinity: own } })),
      ),
    );
    expect(replaced!.spec!.affinity).toEqual({ podAntiAffinity: own });
    const [joined] = statefulSetTemplates(
      buildDatabase(buildContext(withDatabase(), withField('database.pod', { affinity: OPTIONS.affinity }))),
    );
    expect(joined!.spec!.affinity).toEqual({ ...spread, nodeAffinity: OPTIONS.affinity.nodeAffinity });
  });
});

describe('web command and args', () => {
  it.each([
    { name: 'absent: the image entrypoint and CMD', web: {}, expected: {} },
    {
      name: 'set: the container runs them',
      web: { command: ['/agnhost'], args: ['netexec', '--http-port=8080'] },
      expected: { command: ['/agnhost'], args: ['netexec', '--http-port=8080'] },
    },
    { name: 'args alone keep the entrypoint', web: { args: ['serve'] }, expected: { args: ['serve'] } },
  ])('$name', ({ web, expected }) => {
    const c = buildWebDeployment(buildContext(withWeb(web))).spec!.template.spec!.containers[0]!;
    expect({ command: c.command, args: c.args }).toEqual({
      command: undefined,
      args: undefined,
      ...expected,
    });
  });
});

describe('the reserved keys', () => {
  it('cover every label the operator puts on a pod template (OPERATOR_LABELS and OPERATOR_PREFIX)', () => {
    const ctx = buildContext(withCache(), withDatabase(), withWorkers());
    const templates = TIERS.flatMap(({ templates: t }) => t(ctx));
    const keys = new Set(templates.flatMap((t) => Object.keys(t.metadata!.labels!)));
    const unreserved = [...keys].filter(
      (k) => !(OPERATOR_LABELS as readonly string[]).includes(k) && !k.startsWith(OPERATOR_PREFIX),
    );
    expect(unreserved).toEqual([]);
    const annotations = new Set(templates.flatMap((t) => Object.keys(t.metadata!.annotations ?? {})));
    expect([...annotations].filter((k) => !k.startsWith(OPERATOR_PREFIX))).toEqual([]);
  });
});

describe('pod option helpers', () => {
  const at = (options: object) => ({ options, field: 'spec.web.pod' });

  it('podLabels keeps the operator labels and adds the user ones', () => {
    expect(podLabels({ a: '1' }, at({ labels: { b: '2' } }))).toEqual({ a: '1', b: '2' });
    expect(() => podLabels({ a: '1' }, at({ labels: { a: '2' } }))).toThrow(
      'spec.web.pod.labels[a]: is set by the operator and may not be overridden',
    );
  });

  it('podSecurityContextWith always leaves runAsNonRoot true', () => {
    expect(
      podSecurityContextWith(restrictedPodSecurityContext(), at({ securityContext: { fsGroup: 5 } })),
    ).toEqual({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
      fsGroup: 5,
    });
    expect(podSecurityContextWith(podSecurityContext(), at({}))).toEqual(podSecurityContext());
    expect(containerSecurityContext()).toMatchObject({ runAsUser: 999 });
  });

  it('podSpecOptions sets nothing for empty lists and maps', () => {
    expect(podSpecOptions(at({ imagePullSecrets: [], nodeSelector: {}, tolerations: [] }))).toEqual({});
  });
});
