import { describe, expect, it } from '@jest/globals';
import { buildContext, editedContext } from '../../../test/fixtures/build-context.js';
import { withAutoscaling, withWeb } from '../../../test/fixtures/scalable-app.js';
import { BuildError } from '../types.js';
import { buildWebHpa } from './hpa.js';

const build = (...mods: Parameters<typeof buildContext>) => buildWebHpa(buildContext(...mods));

describe('buildWebHpa', () => {
  it.each([
    ['autoscaling is absent', []],
    ['autoscaling is disabled', [withAutoscaling({ enabled: false })]],
  ])('there is no HPA when %s', (_name, mods) => {
    expect(build(...mods)).toBeUndefined();
  });

  it('scales the web Deployment between min and max replicas', () => {
    const hpa = build(withAutoscaling({ minReplicas: 3, maxReplicas: 9 }))!;
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.metadata.name).toBe('shop-web');
    expect(hpa.spec!.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'shop-web' });
    expect(hpa.spec!.minReplicas).toBe(3);
    expect(hpa.spec!.maxReplicas).toBe(9);
  });

  it.each([
    {
      name: 'CPU utilization is the only target by default',
      mods: [withAutoscaling({ targetCPUUtilizationPercentage: 55 })],
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 55 } },
        },
      ],
    },
    {
      name: 'a memory target adds a memory metric',
      mods: [withAutoscaling({ targetMemoryUtilizationPercentage: 80 })],
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
        },
        {
          type: 'Resource',
          resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 80 } },
        },
      ],
    },
  ])('$name', ({ mods, metrics }) => {
    expect(build(...mods)!.spec!.metrics).toEqual(metrics);
  });

  it('passes behavior through unchanged, and leaves it out when unset', () => {
    const behavior = {
      scaleUp: {
        selectPolicy: 'Max' as const,
        policies: [{ type: 'Pods' as const, value: 4, periodSeconds: 60 }],
      },
      scaleDown: { stabilizationWindowSeconds: 300 },
    };
    expect(build(withAutoscaling({ behavior }))!.spec!.behavior).toEqual(behavior);
    expect(build(withAutoscaling())!.spec).not.toHaveProperty('behavior');
  });

  it.each([
    {
      name: 'minReplicas above maxReplicas',
      edit: (a: ReturnType<typeof buildContext>['app']) => {
        a.spec.web.autoscaling!.minReplicas = 5;
        a.spec.web.autoscaling!.maxReplicas = 4;
      },
      message: 'spec.web.autoscaling.minReplicas: must be less than or equal to maxReplicas (5 > 4)',
    },
    {
      name: 'no CPU request',
      edit: (a: ReturnType<typeof buildContext>['app']) => {
        a.spec.web.resources = { requests: { memory: '1Gi' } };
      },
      message: 'spec.web.resources.requests.cpu: is required',
    },
    {
      name: 'a memory target without a memory request',
      edit: (a: ReturnType<typeof buildContext>['app']) => {
        a.spec.web.autoscaling!.targetMemoryUtilizationPercentage = 80;
        a.spec.web.resources = { requests: { cpu: '1' } };
      },
      message: 'spec.web.resources.requests.memory: is required',
    },
  ])('$name is a BuildError naming the field', ({ edit, message }) => {
    const ctx = editedContext(
      edit,
      withAutoscaling(),
      withWeb({ resources: { requests: { cpu: '1', memory: '1Gi' } } }),
    );
    expect(() => buildWebHpa(ctx)).toThrow(BuildError);
    expect(() => buildWebHpa(ctx)).toThrow(message);
  });

  it('matches the snapshot with a memory target and behavior', () => {
    expect(
      build(
        withAutoscaling({
          targetMemoryUtilizationPercentage: 75,
          behavior: { scaleDown: { stabilizationWindowSeconds: 120 } },
        }),
      ),
    ).toMatchSnapshot();
  });
});
