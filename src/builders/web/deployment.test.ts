import { describe, expect, it } from '@jest/globals';
import { buildContext, editedContext } from '../../../test/fixtures/build-context.js';
import {
  withAutoscaling,
  withCache,
  withDatabase,
  withName,
  withWeb,
} from '../../../test/fixtures/scalable-app.js';
import { BINDING_CHECKSUM_ANNOTATION } from '../binding.js';
import { BuildError } from '../types.js';
import { webName } from '../names.js';
import { buildWebDeployment, STARTUP_FAILURE_THRESHOLD } from './deployment.js';

const build = (...mods: Parameters<typeof buildContext>) => buildWebDeployment(buildContext(...mods));
const podSpec = (d: ReturnType<typeof build>) => d.spec!.template.spec!;
const container = (d: ReturnType<typeof build>) => podSpec(d).containers[0]!;

describe('buildWebDeployment', () => {
  describe('replicas', () => {
    it.each([
      {
        name: 'autoscaling on leaves no replicas field at all (the HPA owns it)',
        mods: [withAutoscaling()],
        has: false,
      },
      {
        name: 'autoscaling on ignores web.replicas',
        mods: [withAutoscaling(), withWeb({ replicas: 7 })],
        has: false,
      },
      { name: 'autoscaling disabled sets replicas', mods: [withAutoscaling({ enabled: false })], has: true },
      { name: 'no autoscaling sets replicas', mods: [], has: true },
    ])('$name', ({ mods, has }) => {
      expect(Object.hasOwn(build(...mods).spec!, 'replicas')).toBe(has);
    });

    it.each([0, 2, 9])('without autoscaling, replicas is web.replicas (%d)', (replicas) => {
      expect(build(withWeb({ replicas })).spec!.replicas).toBe(replicas);
    });
  });

  it('is named <app>-web, selects the web pods and labels its pods with every standard label', () => {
    const d = build();
    expect(d.metadata.name).toBe('shop-web');
    expect(webName(buildContext(withName('store')).app)).toBe('store-web');
    expect(d.spec!.selector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'shop',
      'app.kubernetes.io/instance': 'shop',
      'app.kubernetes.io/component': 'web',
    });
    expect(d.spec!.template.metadata!.labels).toMatchObject(d.spec!.selector.matchLabels!);
    expect(d.spec!.template.metadata!.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'scalable-app-operator',
    });
  });

  it('rolls out without going below the current count: maxUnavailable 0, maxSurge 25%', () => {
    expect(build().spec!.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' },
    });
  });

  it('runs the image on the port named http with the resources of the spec', () => {
    const c = container(
      build(withWeb({ image: 'reg.example/shop:2', port: 3000, resources: { requests: { cpu: '1' } } })),
    );
    expect(c.image).toBe('reg.example/shop:2');
    expect(c.ports).toEqual([{ name: 'http', containerPort: 3000, protocol: 'TCP' }]);
    expect(c.resources).toEqual({ requests: { cpu: '1' } });
  });

  describe('probes', () => {
    it('liveness and readiness probe the health paths on the http port every periodSeconds', () => {
      const c = container(
        build(withWeb({ healthCheck: { livenessPath: '/live', readinessPath: '/ready', periodSeconds: 5 } })),
      );
      expect(c.livenessProbe).toEqual({ httpGet: { path: '/live', port: 'http' }, periodSeconds: 5 });
      expect(c.readinessProbe).toEqual({
        httpGet: { path: '/ready', port: 'http' },
        periodSeconds: 5,
        failureThreshold: 1,
      });
    });

    it('one failed readiness probe takes a pod out of its endpoints: a terminating pod that answers 503 is out within periodSeconds, inside its 30 s grace period', () => {
      const c = container(build(withWeb({ healthCheck: { periodSeconds: 10 } })));
      expect(c.readinessProbe?.failureThreshold).toBe(1);
      expect(c.livenessProbe).not.toHaveProperty('failureThreshold');
    });

    it('there is no startup probe unless startupPath is set', () => {
      expect(container(build())).not.toHaveProperty('startupProbe');
    });

    it('startupPath adds a startup probe that tolerates a slow start', () => {
      const c = container(build(withWeb({ healthCheck: { startupPath: '/started' } })));
      expect(c.startupProbe).toEqual({
        httpGet: { path: '/started', port: 'http' },
        periodSeconds: 10,
        failureThreshold: STARTUP_FAILURE_THRESHOLD,
      });
    });
  });

  describe('the binding', () => {
    it.each([
      { name: 'a web-only app', mods: [], loads: false },
      { name: 'an app with Redis', mods: [withCache()], loads: true },
      { name: 'an app with a database', mods: [withDatabase()], loads: true },
      { name: 'an app whose data tier is disabled', mods: [withCache({ enabled: false })], loads: false },
    ])('$name loads it with envFrom and rolls on its checksum: $loads', ({ mods, loads }) => {
      const d = build(...mods);
      if (loads) {
        expect(container(d).envFrom).toEqual([{ secretRef: { name: 'shop-binding' } }]);
        expect(d.spec!.template.metadata!.annotations![BINDING_CHECKSUM_ANNOTATION]).toMatch(
          /^[0-9a-f]{64}$/,
        );
      } else {
        expect(container(d)).not.toHaveProperty('envFrom');
        expect(d.spec!.template.metadata).not.toHaveProperty('annotations');
      }
    });

    it('a changed password changes the pod template, so the pods roll', () => {
      const before = build(withDatabase());
      const ctx = buildContext(withDatabase());
      ctx.credentials = { ...ctx.credentials, appPassword: 'rotated' };
      expect(buildWebDeployment(ctx).spec!.template.metadata!.annotations).not.toEqual(
        before.spec!.template.metadata!.annotations,
      );
    });
  });

  it('passes the user environment after POD_NAME and POD_NAMESPACE', () => {
    const env = container(build(withWeb({ env: [{ name: 'MODE', value: 'prod' }] }))).env!;
    expect(env.map((e) => e.name)).toEqual(['POD_NAME', 'POD_NAMESPACE', 'MODE']);
  });

  it('a duplicate user variable is a BuildError naming the second one', () => {
    const ctx = editedContext((app) => {
      app.spec.web.env = [
        { name: 'A', value: '1' },
        { name: 'A', value: '2' },
      ];
    });
    expect(() => buildWebDeployment(ctx)).toThrow(BuildError);
    expect(() => buildWebDeployment(ctx)).toThrow('spec.web.env[1].name: duplicate environment variable A');
  });

  it('matches the snapshot for an autoscaled web tier with Redis', () => {
    expect(build(withAutoscaling(), withCache())).toMatchSnapshot();
  });
});
