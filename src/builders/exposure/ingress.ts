// The Ingress `<app>-web` for exposure type Ingress: host, TLS and the controller's cookie-affinity annotations.
import type { V1Ingress } from '@kubernetes/client-node';
import { objectMeta } from '../meta.js';
import { BuildError, type BuildContext, type K8sObject } from '../types.js';
import { HTTP_PORT_NAME, webName } from '../names.js';
import { cookieControllers, nginxCookieAnnotations } from './cookie-affinity.js';

export type Ingress = V1Ingress & K8sObject;

/**
 * The Ingress, or undefined unless exposure.type is Ingress. One rule: every path of `host` (or of any host when
 * absent) to the web Service's http port. User annotations win over generated ones.
 */
export function buildIngress({ app }: BuildContext): Ingress | undefined {
  const e = app.spec.exposure;
  if (e.type !== 'Ingress') return undefined;
  if (e.tlsSecretName && !e.host) {
    throw new BuildError('spec.exposure.host', 'is required when tlsSecretName is set');
  }
  const annotations = {
    ...(cookieControllers(e).includes('nginx') ? nginxCookieAnnotations(e) : {}),
    ...e.annotations,
  };
  const name = webName(app);
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: objectMeta(app, 'exposure', name, Object.keys(annotations).length > 0 ? { annotations } : {}),
    spec: {
      ...(e.ingressClassName ? { ingressClassName: e.ingressClassName } : {}),
      ...(e.tlsSecretName && e.host ? { tls: [{ hosts: [e.host], secretName: e.tlsSecretName }] } : {}),
      rules: [
        {
          ...(e.host ? { host: e.host } : {}),
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name, port: { name: HTTP_PORT_NAME } } },
              },
            ],
          },
        },
      ],
    },
  };
}
