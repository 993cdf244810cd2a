// The Gateway API HTTPRoute `<app>-web` (gateway.networking.k8s.io/v1) for exposure type Gateway, with cookie
// session persistence on its rule when sessionAffinity is Cookie.
import { objectMeta } from '../meta.js';
import { BuildError, type BuildContext, type K8sObject } from '../types.js';
import { webName } from '../names.js';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export interface ParentReference {
  group: typeof GATEWAY_GROUP;
  kind: 'Gateway';
  name: string;
  namespace?: string;
  sectionName?: string;
}

/** HTTPRouteRule.sessionPersistence (Gateway API v1.1+; the experimental channel's CRD carries it). */
export interface SessionPersistence {
  sessionName: string;
  type: 'Cookie';
  absoluteTimeout: string;
}

export interface HTTPRouteRule {
  matches: { path: { type: 'PathPrefix'; value: string } }[];
  backendRefs: { name: string; port: number }[];
  sessionPersistence?: SessionPersistence;
}

export interface HTTPRoute extends K8sObject {
  apiVersion: `${typeof GATEWAY_GROUP}/v1`;
  kind: 'HTTPRoute';
  spec: { parentRefs: ParentReference[]; hostnames?: string[]; rules: HTTPRouteRule[] };
}

/** A Gateway API Duration (`^([0-9]{1,5}(h|m|s|ms)){1,4}$`): seconds, or hours and seconds past 99999s. */
export const gatewayDuration = (seconds: number): string =>
  seconds <= 99999 ? `${seconds}s` : `${Math.floor(seconds / 3600)}h${seconds % 3600}s`;

/**
 * The HTTPRoute, or undefined unless exposure.type is Gateway. For cookie affinity the rule carries
 * `sessionPersistence` with the cookie name and `absoluteTimeout` = affinityTimeoutSeconds: the cookie's
 * lifetime, as ingress-nginx's session-cookie-max-age, and the timeout implementations support most widely.
 */
export function buildHTTPRoute({ app }: BuildContext): HTTPRoute | undefined {
  const e = app.spec.exposure;
  if (e.type !== 'Gateway') return undefined;
  const gateway = e.gateway;
  if (!gateway) throw new BuildError('spec.exposure.gateway', 'is required when type is Gateway');
  const name = webName(app);
  const annotations = e.annotations && Object.keys(e.annotations).length > 0 ? e.annotations : undefined;
  return {
    apiVersion: `${GATEWAY_GROUP}/v1`,
    kind: 'HTTPRoute',
    metadata: objectMeta(app, 'exposure', name, annotations ? { annotations } : {}),
    spec: {
      parentRefs: [
        {
          group: GATEWAY_GROUP,
          kind: 'Gateway',
          name: gateway.name,
          ...(gateway.namespace ? { namespace: gateway.namespace } : {}),
          ...(gateway.sectionName ? { sectionName: gateway.sectionName } : {}),
        },
      ],
      ...(e.host ? { hostnames: [e.host] } : {}),
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/' } }],
          backendRefs: [{ name, port: e.servicePort }],
          ...(e.sessionAffinity === 'Cookie'
            ? {
                sessionPersistence: {
                  sessionName: e.cookieName,
                  type: 'Cookie',
                  absoluteTimeout: gatewayDuration(e.affinityTimeoutSeconds),
                },
              }
            : {}),
        },
      ],
    },
  };
}
