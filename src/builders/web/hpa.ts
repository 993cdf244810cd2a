// The web tier's HorizontalPodAutoscaler `<app>-web`, when web.autoscaling is enabled.
import { type HorizontalPodAutoscaler, horizontalPodAutoscaler } from '../app-pod/hpa.js';
import { webName } from '../names.js';
import type { BuildContext } from '../types.js';

/** The web tier's HPA, or undefined when autoscaling is off. */
export function buildWebHpa({ app }: BuildContext): HorizontalPodAutoscaler | undefined {
  const { autoscaling, resources } = app.spec.web;
  if (!autoscaling?.enabled) return undefined;
  return horizontalPodAutoscaler(app, {
    component: 'web',
    name: webName(app),
    autoscaling,
    resources,
    field: 'spec.web',
  });
}
