// The optional workers Deployment `<app>-workers`: background processes sharing the binding with the web tier.
import type { ScalableApp, WorkersSpec } from '../../api/v1alpha1/index.js';
import { bindingEnvFrom, containerEnv } from '../app-pod/env.js';
import { appPodTemplate, type Deployment } from '../app-pod/pod.js';
import { objectMeta, selectorLabels } from '../meta.js';
import { workersName } from '../names.js';
import { resourceRequirements } from '../resources.js';
import { BuildError, type BuildContext } from '../types.js';

/** The workers spec when workers are present and enabled. */
export const enabledWorkers = (app: ScalableApp): WorkersSpec | undefined =>
  app.spec.workers?.enabled ? app.spec.workers : undefined;

/**
 * The workers Deployment, or undefined when workers are absent or disabled. No probes: a worker serves no port,
 * and whether it is alive is the app's own knowledge (an exec probe would only guess). Like the web tier, it has
 * no `spec.replicas` while its HPA runs.
 */
export function buildWorkersDeployment(ctx: BuildContext): Deployment | undefined {
  const { app } = ctx;
  const workers = enabledWorkers(app);
  if (!workers) return undefined;
  if (workers.command.length === 0) {
    throw new BuildError('spec.workers.command', 'is required when workers are enabled');
  }
  const envFrom = bindingEnvFrom(app);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: objectMeta(app, 'workers', workersName(app)),
    spec: {
      ...(workers.autoscaling?.enabled ? {} : { replicas: workers.replicas }),
      selector: { matchLabels: selectorLabels(app, 'workers') },
      template: appPodTemplate(
        ctx,
        'workers',
        {
          name: 'worker',
          image: workers.image ?? app.spec.web.image,
          command: workers.command,
          ...(workers.args ? { args: workers.args } : {}),
          env: containerEnv(workers.env, 'spec.workers.env'),
          ...(envFrom ? { envFrom } : {}),
          resources: resourceRequirements(workers.resources)!,
        },
        { options: workers.pod, field: 'spec.workers.pod' },
      ),
    },
  };
}
