// The web Deployment `<app>-web`: identical, stateless clones of the app behind the load balancer.
import type { V1Deployment, V1Probe } from '@kubernetes/client-node';
import type { ScalableApp, WebSpec } from '../../api/v1alpha1/index.js';
import { childName, objectMeta, selectorLabels } from '../meta.js';
import type { BuildContext, K8sObject } from '../types.js';
import { bindingEnvFrom, containerEnv } from './env.js';
import { appPodTemplate } from './pod.js';
import { resourceRequirements } from './pod-scheduling.js';

export type Deployment = V1Deployment & K8sObject;

/** Name of the web Deployment, and of the objects in front of it (HPA, Service, Ingress, HTTPRoute, PDB). */
export const webName = (app: ScalableApp) => childName(app, 'web');

/** Name of the container port the Service, the probes and the Ingress refer to. */
export const HTTP_PORT_NAME = 'http';

/** Failed startup probes tolerated before the container is restarted: 30 periods (5 minutes at 10s). */
export const STARTUP_FAILURE_THRESHOLD = 30;

const httpProbe = (path: string, periodSeconds: number): V1Probe => ({
  httpGet: { path, port: HTTP_PORT_NAME },
  periodSeconds,
});

function probes(health: WebSpec['healthCheck']) {
  return {
    livenessProbe: httpProbe(health.livenessPath, health.periodSeconds),
    readinessProbe: httpProbe(health.readinessPath, health.periodSeconds),
    ...(health.startupPath !== undefined
      ? {
          startupProbe: {
            ...httpProbe(health.startupPath, health.periodSeconds),
            failureThreshold: STARTUP_FAILURE_THRESHOLD,
          },
        }
      : {}),
  };
}

/**
 * The web Deployment. With autoscaling enabled it has no `spec.replicas` at all: the HPA owns the count, and a
 * server-side apply that names the field would take it back on every reconcile. Rolling updates never go below
 * the current count (maxUnavailable 0) and add up to a quarter more pods at a time.
 */
export function buildWebDeployment(ctx: BuildContext): Deployment {
  const { app } = ctx;
  const web = app.spec.web;
  const envFrom = bindingEnvFrom(app);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: objectMeta(app, 'web', webName(app)),
    spec: {
      ...(web.autoscaling?.enabled ? {} : { replicas: web.replicas }),
      selector: { matchLabels: selectorLabels(app, 'web') },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
      template: appPodTemplate(ctx, 'web', {
        name: 'web',
        image: web.image,
        ports: [{ name: HTTP_PORT_NAME, containerPort: web.port, protocol: 'TCP' }],
        env: containerEnv(web.env, 'spec.web.env'),
        ...(envFrom ? { envFrom } : {}),
        resources: resourceRequirements(web.resources),
        ...probes(web.healthCheck),
      }),
    },
  };
}
