import { describe, expect, it } from '@jest/globals';
import { buildContext, editedContext } from '../../../test/fixtures/build-context.js';
import { withCache, withWeb, withWorkers } from '../../../test/fixtures/scalable-app.js';
import { BINDING_CHECKSUM_ANNOTATION } from '../binding.js';
import { BuildError } from '../types.js';
import { buildWorkersDeployment } from './deployment.js';

const build = (...mods: Parameters<typeof buildContext>) => buildWorkersDeployment(buildContext(...mods));
const container = (d: NonNullable<ReturnType<typeof build>>) => d.spec!.template.spec!.containers[0]!;

describe('buildWorkersDeployment', () => {
  it.each([
    ['workers are absent', []],
    ['workers are disabled', [withWorkers({ enabled: false })]],
  ])('there is no Deployment when %s', (_name, mods) => {
    expect(build(...mods)).toBeUndefined();
  });

  it('is <app>-workers running the command and args, selecting the workers pods', () => {
    const d = build(withWorkers({ command: ['node', 'worker.js'], args: ['--queue', 'mail'] }))!;
    expect(d.metadata.name).toBe('shop-workers');
    expect(d.spec!.selector.matchLabels).toMatchObject({ 'app.kubernetes.io/component': 'workers' });
    expect(container(d)).toMatchObject({
      name: 'worker',
      command: ['node', 'worker.js'],
      args: ['--queue', 'mail'],
    });
  });

  it.each([
    { name: 'the web image when workers name none', mods: [withWorkers()], image: 'scalable-shop:0.1.0' },
    {
      name: 'its own image when given',
      mods: [withWorkers({ command: ['w'], image: 'shop-worker:2' }), withWeb({ image: 'web:1' })],
      image: 'shop-worker:2',
    },
  ])('runs $name', ({ mods, image }) => {
    expect(container(build(...mods)!).image).toBe(image);
  });

  it.each([
    {
      name: 'autoscaling on leaves no replicas field',
      mods: [withWorkers({ command: ['w'], autoscaling: {} })],
      replicas: undefined,
    },
    {
      name: 'autoscaling disabled sets replicas',
      mods: [withWorkers({ command: ['w'], replicas: 3, autoscaling: { enabled: false } })],
      replicas: 3,
    },
    {
      name: 'no autoscaling sets replicas',
      mods: [withWorkers({ command: ['w'], replicas: 4 })],
      replicas: 4,
    },
  ])('$name', ({ mods, replicas }) => {
    const spec = build(...mods)!.spec!;
    expect(Object.hasOwn(spec, 'replicas')).toBe(replicas !== undefined);
    expect(spec.replicas).toBe(replicas);
  });

  it('has no probes and no ports: a worker serves nothing', () => {
    const c = container(build(withWorkers())!);
    for (const field of ['livenessProbe', 'readinessProbe', 'startupProbe', 'ports'])
      expect(c).not.toHaveProperty(field);
  });

  it('loads the binding like the web tier, and rolls with it', () => {
    const d = build(withWorkers(), withCache())!;
    expect(container(d).envFrom).toEqual([{ secretRef: { name: 'shop-binding' } }]);
    expect(d.spec!.template.metadata!.annotations).toHaveProperty([BINDING_CHECKSUM_ANNOTATION]);
  });

  it('has the restricted security settings of the web tier', () => {
    const d = build(withWorkers())!;
    expect(d.spec!.template.spec!.securityContext).toEqual({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container(d).securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
  });

  it.each([
    {
      name: 'enabled workers without a command',
      edit: (a: ReturnType<typeof buildContext>['app']) => {
        a.spec.workers!.command = [];
      },
      message: 'spec.workers.command: is required when workers are enabled',
    },
    {
      name: 'a duplicate worker variable',
      edit: (a: ReturnType<typeof buildContext>['app']) => {
        a.spec.workers!.env = [{ name: 'Q' }, { name: 'Q' }];
      },
      message: 'spec.workers.env[1].name: duplicate environment variable Q',
    },
  ])('$name is a BuildError naming the field', ({ edit, message }) => {
    const ctx = editedContext(edit, withWorkers());
    expect(() => buildWorkersDeployment(ctx)).toThrow(BuildError);
    expect(() => buildWorkersDeployment(ctx)).toThrow(message);
  });

  it('matches the snapshot', () => {
    expect(
      build(withWorkers({ command: ['node', 'worker.js'], args: ['--concurrency', '4'] }), withCache()),
    ).toMatchSnapshot();
  });
});
