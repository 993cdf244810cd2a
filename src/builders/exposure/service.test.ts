import { describe, expect, it } from '@jest/globals';
import { buildContext } from '../../../test/fixtures/build-context.js';
import {
  withClientIPAffinity,
  withCookieAffinity,
  withExposure,
} from '../../../test/fixtures/scalable-app.js';
import { buildWebService } from './service.js';

const build = (...mods: Parameters<typeof buildContext>) => buildWebService(buildContext(...mods));

describe('buildWebService', () => {
  it('is <app>-web, sending servicePort to the web pods port named http', () => {
    const svc = build(withExposure({ servicePort: 8443 }));
    expect(svc.metadata.name).toBe('shop-web');
    expect(svc.spec!.selector).toEqual({
      'app.kubernetes.io/name': 'shop',
      'app.kubernetes.io/instance': 'shop',
      'app.kubernetes.io/component': 'web',
    });
    expect(svc.spec!.ports).toEqual([{ name: 'http', port: 8443, targetPort: 'http', protocol: 'TCP' }]);
  });

  it.each(['ClusterIP', 'NodePort', 'LoadBalancer'])(
    'has the type of exposure.serviceType (%s)',
    (serviceType) => {
      expect(build(withExposure({ serviceType })).spec!.type).toBe(serviceType);
    },
  );

  it.each([
    {
      name: 'ClientIP pins clients for affinityTimeoutSeconds',
      mods: [withClientIPAffinity(), withExposure({ affinityTimeoutSeconds: 600 })],
      sessionAffinity: 'ClientIP',
      config: { clientIP: { timeoutSeconds: 600 } },
    },
    {
      name: 'None balances round robin, stated explicitly',
      mods: [],
      sessionAffinity: 'None',
      config: undefined,
    },
    {
      name: 'Cookie leaves the Service round robin (the proxy pins)',
      mods: [withCookieAffinity('Ingress')],
      sessionAffinity: 'None',
      config: undefined,
    },
  ])('$name', ({ mods, sessionAffinity, config }) => {
    const spec = build(...mods).spec!;
    expect(spec.sessionAffinity).toBe(sessionAffinity);
    expect(spec.sessionAffinityConfig).toEqual(config);
  });

  it.each([
    {
      name: 'a Traefik Ingress with cookie affinity',
      mods: [withCookieAffinity(), withExposure({ ingressClassName: 'traefik-internal' })],
      sticky: true,
    },
    {
      name: 'an Ingress of the default class with cookie affinity',
      mods: [withCookieAffinity(), withExposure({ ingressClassName: undefined })],
      sticky: true,
    },
    { name: 'an nginx Ingress with cookie affinity', mods: [withCookieAffinity()], sticky: false },
    {
      name: 'a Traefik Ingress without affinity',
      mods: [withExposure({ type: 'Ingress', ingressClassName: 'traefik' })],
      sticky: false,
    },
    { name: 'a Gateway with cookie affinity', mods: [withCookieAffinity('Gateway')], sticky: false },
  ])('$name: Traefik sticky cookie annotations on the Service: $sticky', ({ mods, sticky }) => {
    const annotations = build(...mods).metadata.annotations;
    if (sticky) {
      expect(annotations).toEqual({
        'traefik.ingress.kubernetes.io/service.sticky.cookie': 'true',
        'traefik.ingress.kubernetes.io/service.sticky.cookie.name': 'SAPP_AFFINITY',
      });
    } else {
      expect(annotations).toBeUndefined();
    }
  });

  it('matches the snapshot for ClientIP affinity on a LoadBalancer', () => {
    expect(build(withClientIPAffinity(), withExposure({ serviceType: 'LoadBalancer' }))).toMatchSnapshot();
  });
});
