// The workers' HorizontalPodAutoscaler `<app>-workers`, when workers.autoscaling is enabled.
import { type HorizontalPodAutoscaler, horizontalPodAutoscaler } from '../app-pod/hpa.js';
import { workersName } from '../names.js';
import type { BuildContext } from '../types.js';
import { enabledWorkers } from './deployment.js';

export function buildWorkersHpa({ app }: BuildContext): HorizontalPodAutoscaler | undefined {
  const workers = enabledWorkers(app);
  if (!workers?.autoscaling?.enabled) return undefined;
  return horizontalPodAutoscaler(app, {
    component: 'workers',
    name: workersName(app),
    autoscaling: workers.autoscaling,
    resources: workers.resources,
    field: 'spec.workers',
  });
}
