// The web Service `<app>-web`: the load balancer in front of the web pods (round robin, or pinned by client IP).
import type { V1Service } from '@kubernetes/client-node';
import { objectMeta, selectorLabels } from '../meta.js';
import type { BuildContext, K8sObject } from '../types.js';
import { HTTP_PORT_NAME, webName } from '../names.js';
import { cookieControllers, traefikCookieAnnotations } from './cookie-affinity.js';

export type Service = V1Service & K8sObject;

/**
 * The web Service. `sessionAffinity` is always written (None included), so that turning ClientIP off through
 * server-side apply also drops the timeout. Traefik's sticky cookie lives here, as Service annotations.
 */
export function buildWebService({ app }: BuildContext): Service {
  const e = app.spec.exposure;
  const clientIP = e.sessionAffinity === 'ClientIP';
  const traefik = cookieControllers(e).includes('traefik');
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: objectMeta(
      app,
      'exposure',
      webName(app),
      traefik ? { annotations: traefikCookieAnnotations(e) } : {},
    ),
    spec: {
      type: e.serviceType,
      selector: selectorLabels(app, 'web'),
      ports: [{ name: HTTP_PORT_NAME, port: e.servicePort, targetPort: HTTP_PORT_NAME, protocol: 'TCP' }],
      sessionAffinity: clientIP ? 'ClientIP' : 'None',
      ...(clientIP
        ? { sessionAffinityConfig: { clientIP: { timeoutSeconds: e.affinityTimeoutSeconds } } }
        : {}),
    },
  };
}
