import { describe, expect, it } from '@jest/globals';
import { buildContext, editedContext } from '../../../test/fixtures/build-context.js';
import { withCookieAffinity, withExposure } from '../../../test/fixtures/scalable-app.js';
import { BuildError } from '../types.js';
import { buildIngress } from './ingress.js';

const build = (...mods: Parameters<typeof buildContext>) => buildIngress(buildContext(...mods));

const NGINX_COOKIE = {
  'nginx.ingress.kubernetes.io/affinity': 'cookie',
  'nginx.ingress.kubernetes.io/affinity-mode': 'persistent',
  'nginx.ingress.kubernetes.io/session-cookie-name': 'SAPP_AFFINITY',
  'nginx.ingress.kubernetes.io/session-cookie-max-age': '10800',
};

describe('buildIngress', () => {
  it.each([
    ['Service', []],
    ['Gateway', [withCookieAffinity('Gateway')]],
  ])('there is no Ingress for type %s', (_type, mods) => {
    expect(build(...mods)).toBeUndefined();
  });

  it('routes every path of the host to the web Service port http, in the given class', () => {
    const ing = build(
      withExposure({ type: 'Ingress', host: 'shop.example.test', ingressClassName: 'nginx' }),
    )!;
    expect(ing.metadata.name).toBe('shop-web');
    expect(ing.spec!.ingressClassName).toBe('nginx');
    expect(ing.spec!.rules).toEqual([
      {
        host: 'shop.example.test',
        http: {
          paths: [
            {
              path: '/',
              pathType: 'Prefix',
              backend: { service: { name: 'shop-web', port: { name: 'http' } } },
            },
          ],
        },
      },
    ]);
    expect(ing.spec).not.toHaveProperty('tls');
  });

  it('without host or class, serves any host in the default class', () => {
    const ing = build(withExposure({ type: 'Ingress' }))!;
    expect(ing.spec).not.toHaveProperty('ingressClassName');
    expect(ing.spec!.rules![0]).not.toHaveProperty('host');
  });

  it('tlsSecretName terminates TLS for the host', () => {
    const ing = build(withCookieAffinity(), withExposure({ tlsSecretName: 'shop-tls' }))!;
    expect(ing.spec!.tls).toEqual([{ hosts: ['shop.example.test'], secretName: 'shop-tls' }]);
  });

  it.each([
    {
      name: 'Cookie on an nginx Ingress gets the 4 ingress-nginx annotations',
      mods: [withCookieAffinity()],
      expected: NGINX_COOKIE,
    },
    {
      name: 'Cookie on the default class gets them too',
      mods: [withCookieAffinity(), withExposure({ ingressClassName: undefined })],
      expected: NGINX_COOKIE,
    },
    {
      name: 'the max age is affinityTimeoutSeconds and the name cookieName',
      mods: [withCookieAffinity(), withExposure({ affinityTimeoutSeconds: 60, cookieName: 'route' })],
      expected: {
        ...NGINX_COOKIE,
        'nginx.ingress.kubernetes.io/session-cookie-name': 'route',
        'nginx.ingress.kubernetes.io/session-cookie-max-age': '60',
      },
    },
    {
      name: 'Cookie on a Traefik Ingress has none (Traefik reads the Service)',
      mods: [withCookieAffinity(), withExposure({ ingressClassName: 'traefik' })],
      expected: undefined,
    },
    {
      name: 'no affinity has none',
      mods: [withExposure({ type: 'Ingress', ingressClassName: 'nginx' })],
      expected: undefined,
    },
    {
      name: 'user annotations are added, and win over generated ones',
      mods: [
        withCookieAffinity(),
        withExposure({
          annotations: {
            'cert-manager.io/cluster-issuer': 'ca',
            'nginx.ingress.kubernetes.io/affinity-mode': 'balanced',
          },
        }),
      ],
      expected: {
        ...NGINX_COOKIE,
        'cert-manager.io/cluster-issuer': 'ca',
        'nginx.ingress.kubernetes.io/affinity-mode': 'balanced',
      },
    },
  ])('$name', ({ mods, expected }) => {
    expect(build(...mods)!.metadata.annotations).toEqual(expected);
  });

  it('a TLS secret without a host is a BuildError naming spec.exposure.host', () => {
    const ctx = editedContext(
      (app) => {
        app.spec.exposure.tlsSecretName = 'shop-tls';
        delete app.spec.exposure.host;
      },
      withExposure({ type: 'Ingress' }),
    );
    expect(() => buildIngress(ctx)).toThrow(BuildError);
    expect(() => buildIngress(ctx)).toThrow('spec.exposure.host: is required when tlsSecretName is set');
  });

  it('matches the snapshot for cookie affinity with TLS', () => {
    expect(build(withCookieAffinity(), withExposure({ tlsSecretName: 'shop-tls' }))).toMatchSnapshot();
  });
});
