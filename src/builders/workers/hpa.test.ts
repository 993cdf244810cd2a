import { describe, expect, it } from '@jest/globals';
import { buildContext, editedContext } from '../../../test/fixtures/build-context.js';
import { withAutoscaling, withWorkers } from '../../../test/fixtures/scalable-app.js';
import { BuildError } from '../types.js';
import { buildWorkersHpa } from './hpa.js';

const build = (...mods: Parameters<typeof buildContext>) => buildWorkersHpa(buildContext(...mods));

describe('buildWorkersHpa', () => {
  it.each([
    ['workers are absent', [withAutoscaling()]],
    ['workers have no autoscaling', [withWorkers()]],
    ['worker autoscaling is disabled', [withWorkers({ command: ['w'], autoscaling: { enabled: false } })]],
    ['workers are disabled', [withWorkers({ enabled: false, autoscaling: {} })]],
  ])('there is no HPA when %s', (_name, mods) => {
    expect(build(...mods)).toBeUndefined();
  });

  it('scales <app>-workers with its own bounds and target', () => {
    const hpa = build(
      withWorkers({
        command: ['w'],
        autoscaling: { minReplicas: 1, maxReplicas: 4, targetCPUUtilizationPercentage: 50 },
      }),
    )!;
    expect(hpa.metadata.name).toBe('shop-workers');
    expect(hpa.metadata.labels).toMatchObject({ 'app.kubernetes.io/component': 'workers' });
    expect(hpa.spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'shop-workers' },
      minReplicas: 1,
      maxReplicas: 4,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } },
        },
      ],
    });
  });

  it('minReplicas above maxReplicas is a BuildError naming the workers field', () => {
    const ctx = editedContext(
      (a) => {
        a.spec.workers!.autoscaling!.minReplicas = 9;
      },
      withWorkers({ command: ['w'], autoscaling: { maxReplicas: 3 } }),
    );
    expect(() => buildWorkersHpa(ctx)).toThrow(BuildError);
    expect(() => buildWorkersHpa(ctx)).toThrow(
      'spec.workers.autoscaling.minReplicas: must be less than or equal',
    );
  });

  it('matches the snapshot', () => {
    expect(build(withWorkers({ command: ['w'], autoscaling: { maxReplicas: 6 } }))).toMatchSnapshot();
  });
});
