// The web Deployment `<app>-web`: identical, stateless clones of the app behind the load balancer.
import type { V1Probe } from '@kubernetes/client-node';
import type { WebSpec } from '../../api/v1alpha1/index.js';
import { bindingEnvFrom, containerEnv } from '../app-pod/env.js';
import { appPodTemplate, type Deployment } from '../app-pod/pod.js';
import { objectMeta, selectorLabels } from '../meta.js';
import { HTTP_PORT_NAME, webName } from '../names.js';
import { resourceRequirements } from '../resources.js';
import type { BuildContext } from '../types.js';

/** Failed startup probes tolerated before the container is restarted: 30 periods (5 minutes at 10s). */
export const STARTUP_FAILURE_THRESHOLD = 30;

const httpProbe = (path: string, periodSeconds: number): V1Probe => ({
  httpGet: { path, port: HTTP_PORT_NAME },
  periodSeconds,
});

function probes(health: WebSpec['healthCheck']) {
  return {
    livenessProbe: httpProbe(health.livenessPath, health.periodSeconds),
    // One failure takes the pod out of its endpoints: a terminating pod answering 503 leaves every load balancer
    // (a sticky one too) within periodSeconds, while it still drains, well inside its grace period.
    readinessProbe: { ...httpProbe(health.readinessPath, health.periodSeconds), failureThreshold: 1 },
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
      template: appPodTemplate(
        ctx,
        'web',
        {
          name: 'web',
          image: web.image,
          ...(web.command ? { command: web.command } : {}),
          ...(web.args ? { args: web.args } : {}),
          ports: [{ name: HTTP_PORT_NAME, containerPort: web.port, protocol: 'TCP' }],
          env: containerEnv(web.env, 'spec.web.env'),
          ...(envFrom ? { envFrom } : {}),
          resources: resourceRequirements(web.resources)!,
          ...probes(web.healthCheck),
        },
        { options: web.pod, field: 'spec.web.pod' },
      ),
    },
  };
}
