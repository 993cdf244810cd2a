// HorizontalPodAutoscaler (autoscaling/v2) for a Deployment of the app's pods: the web tier's and the workers'.
import type { V2HorizontalPodAutoscaler, V2MetricSpec } from '@kubernetes/client-node';
import type { AutoscalingSpec, ScalableApp, WebSpec } from '../../api/v1alpha1/index.js';
import { type Component, objectMeta } from '../meta.js';
import { BuildError, type K8sObject } from '../types.js';

export type HorizontalPodAutoscaler = V2HorizontalPodAutoscaler & K8sObject;

export interface AutoscalerTarget {
  component: Component;
  /** Name of the Deployment; the HPA takes the same name. */
  name: string;
  autoscaling: AutoscalingSpec;
  resources: WebSpec['resources'];
  /** Path of the tier in the spec, for error messages, e.g. `spec.web`. */
  field: string;
}

const utilization = (name: 'cpu' | 'memory', averageUtilization: number): V2MetricSpec => ({
  type: 'Resource',
  resource: { name, target: { type: 'Utilization', averageUtilization } },
});

function checkTarget({ autoscaling: a, resources, field }: AutoscalerTarget): void {
  if (a.minReplicas > a.maxReplicas) {
    throw new BuildError(
      `${field}.autoscaling.minReplicas`,
      `must be less than or equal to maxReplicas (${a.minReplicas} > ${a.maxReplicas})`,
    );
  }
  if (resources.requests?.cpu === undefined) {
    throw new BuildError(`${field}.resources.requests.cpu`, 'is required: the HPA measures CPU against it');
  }
  if (a.targetMemoryUtilizationPercentage !== undefined && resources.requests?.memory === undefined) {
    throw new BuildError(
      `${field}.resources.requests.memory`,
      'is required when autoscaling.targetMemoryUtilizationPercentage is set',
    );
  }
}

/** An HPA scaling the Deployment `target.name` on CPU (and memory when targeted), with the spec's behavior. */
export function horizontalPodAutoscaler(app: ScalableApp, target: AutoscalerTarget): HorizontalPodAutoscaler {
  checkTarget(target);
  const a = target.autoscaling;
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: objectMeta(app, target.component, target.name),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target.name },
      minReplicas: a.minReplicas,
      maxReplicas: a.maxReplicas,
      metrics: [
        utilization('cpu', a.targetCPUUtilizationPercentage),
        ...(a.targetMemoryUtilizationPercentage !== undefined
          ? [utilization('memory', a.targetMemoryUtilizationPercentage)]
          : []),
      ],
      ...(a.behavior ? { behavior: a.behavior } : {}),
    },
  };
}
