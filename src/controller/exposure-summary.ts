// What status says about exposure: the mechanism carrying traffic and stickiness, warnings about settings that
// cannot work as the user expects, and the URL users reach.
import type { ExposureSpec, ScalableApp } from '../api/v1alpha1/index.js';
import { cookieControllers } from '../builders/exposure/cookie-affinity.js';
import { webName } from '../builders/names.js';

export interface ExposureSummary {
  /** e.g. "Service (ClientIP affinity)" or "Ingress nginx (cookie SAPP_AFFINITY)". */
  mechanism: string;
  warnings: string[];
  /** Where users reach the app, when it is known from the spec alone. */
  url?: string;
}

function stickiness(e: ExposureSpec): string {
  switch (e.sessionAffinity) {
    case 'Cookie':
      return `cookie ${e.cookieName}`;
    case 'ClientIP':
      return 'ClientIP affinity';
    case 'None':
      return 'round robin';
  }
}

function mechanism(e: ExposureSpec): string {
  switch (e.type) {
    case 'Service':
      return `Service${e.serviceType === 'ClusterIP' ? '' : ` ${e.serviceType}`} (${stickiness(e)})`;
    case 'Ingress':
      return `Ingress ${e.ingressClassName || 'default class'} (${stickiness(e)})`;
    case 'Gateway': {
      const gw = e.gateway ? `${e.gateway.namespace ? `${e.gateway.namespace}/` : ''}${e.gateway.name}` : '?';
      return `HTTPRoute on Gateway ${gw} (${stickiness(e)})`;
    }
  }
}

type Check = (e: ExposureSpec) => string | undefined;

const CHECKS: Check[] = [
  (e) =>
    e.sessionAffinity === 'ClientIP' && e.type !== 'Service'
      ? `sessionAffinity ClientIP behind ${e.type === 'Ingress' ? 'an Ingress' : 'a Gateway'} pins the proxy's address, not the client's: the Service sees only the proxy pods, so users are not pinned individually; use sessionAffinity Cookie`
      : undefined,
  (e) =>
    e.sessionAffinity === 'ClientIP' && e.type === 'Service' && e.serviceType !== 'ClusterIP'
      ? `sessionAffinity ClientIP on a ${e.serviceType} Service sees a node's or load balancer's address for traffic from outside the cluster (source NAT with externalTrafficPolicy Cluster), so external clients may share one pod`
      : undefined,
  (e) =>
    e.type === 'Ingress' && e.sessionAffinity === 'Cookie' && cookieControllers(e).length === 0
      ? `no built-in cookie-affinity annotations for ingressClassName ${e.ingressClassName}: add the controller's own in exposure.annotations`
      : undefined,
  (e) =>
    e.type === 'Gateway' && e.sessionAffinity === 'Cookie'
      ? 'cookie affinity uses HTTPRoute sessionPersistence, an experimental-channel Gateway API field: the HTTPRoute CRD and the Gateway implementation must support it'
      : undefined,
  (e) =>
    e.type === 'Gateway' && e.tlsSecretName
      ? 'tlsSecretName is not used with type Gateway: TLS is configured on the Gateway listener'
      : undefined,
  (e) => {
    const unused = (['host', 'ingressClassName', 'tlsSecretName', 'annotations'] as const).filter(
      (k) => e[k] !== undefined,
    );
    return e.type === 'Service' && unused.length > 0
      ? `${unused.join(', ')} ${unused.length === 1 ? 'is' : 'are'} used only with type Ingress or Gateway`
      : undefined;
  },
  (e) =>
    e.type === 'Gateway' && e.ingressClassName ? 'ingressClassName is not used with type Gateway' : undefined,
];

function url(app: ScalableApp): string | undefined {
  const e = app.spec.exposure;
  if (e.type === 'Service') {
    return `http://${webName(app)}.${app.metadata.namespace}.svc:${e.servicePort}`;
  }
  if (!e.host) return undefined;
  return `${e.type === 'Ingress' && e.tlsSecretName ? 'https' : 'http'}://${e.host}`;
}

/** The exposure part of status: mechanism, warnings (for a condition message) and URL. */
export function exposureSummary(app: ScalableApp): ExposureSummary {
  const e = app.spec.exposure;
  const warnings = CHECKS.map((check) => check(e)).filter((w): w is string => w !== undefined);
  const u = url(app);
  return { mechanism: mechanism(e), warnings, ...(u ? { url: u } : {}) };
}
