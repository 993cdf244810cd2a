import { describe, expect, it } from '@jest/globals';
import { buildContext } from '../../test/fixtures/build-context.js';
import { withClientIPAffinity, withCookieAffinity, withExposure } from '../../test/fixtures/scalable-app.js';
import { exposureSummary } from './exposure-summary.js';

const summary = (...mods: Parameters<typeof buildContext>) => exposureSummary(buildContext(...mods).app);

describe('exposureSummary', () => {
  it.each([
    { mods: [], mechanism: 'Service (round robin)' },
    { mods: [withClientIPAffinity()], mechanism: 'Service (ClientIP affinity)' },
    {
      mods: [withExposure({ serviceType: 'LoadBalancer' })],
      mechanism: 'Service LoadBalancer (round robin)',
    },
    { mods: [withCookieAffinity()], mechanism: 'Ingress nginx (cookie SAPP_AFFINITY)' },
    {
      mods: [withCookieAffinity(), withExposure({ ingressClassName: undefined })],
      mechanism: 'Ingress default class (cookie SAPP_AFFINITY)',
    },
    {
      mods: [withExposure({ type: 'Ingress', ingressClassName: 'traefik' })],
      mechanism: 'Ingress traefik (round robin)',
    },
    {
      mods: [withCookieAffinity('Gateway')],
      mechanism: 'HTTPRoute on Gateway gateways/public (cookie SAPP_AFFINITY)',
    },
    {
      mods: [withExposure({ type: 'Gateway', gateway: { name: 'edge' } })],
      mechanism: 'HTTPRoute on Gateway edge (round robin)',
    },
  ])('mechanism: $mechanism', ({ mods, mechanism }) => {
    expect(summary(...mods).mechanism).toBe(mechanism);
  });

  it.each([
    {
      name: 'ClientIP behind an Ingress warns that the proxy address is pinned',
      mods: [withExposure({ type: 'Ingress', sessionAffinity: 'ClientIP' })],
      warning: /ClientIP behind an Ingress pins the proxy's address/,
    },
    {
      name: 'ClientIP behind a Gateway warns too',
      mods: [withExposure({ type: 'Gateway', gateway: { name: 'g' }, sessionAffinity: 'ClientIP' })],
      warning: /ClientIP behind a Gateway pins the proxy's address/,
    },
    {
      name: 'ClientIP on a LoadBalancer warns of source NAT',
      mods: [withClientIPAffinity(), withExposure({ serviceType: 'LoadBalancer' })],
      warning: /source NAT/,
    },
    {
      name: 'Cookie on an unknown ingress class asks for the annotations',
      mods: [withCookieAffinity(), withExposure({ ingressClassName: 'haproxy' })],
      warning: /no built-in cookie-affinity annotations for ingressClassName haproxy/,
    },
    {
      name: 'Cookie on a Gateway says it needs sessionPersistence support',
      mods: [withCookieAffinity('Gateway')],
      warning: /experimental-channel/,
    },
    {
      name: 'a TLS secret on a Gateway is not used',
      mods: [withCookieAffinity('Gateway'), withExposure({ tlsSecretName: 'tls' })],
      warning: /tlsSecretName is not used with type Gateway/,
    },
    {
      name: 'Ingress fields on a plain Service are not used',
      mods: [withExposure({ host: 'a.example', ingressClassName: 'nginx' })],
      warning: /^host, ingressClassName are used only with type Ingress or Gateway$/,
    },
  ])('$name', ({ mods, warning }) => {
    expect(summary(...mods).warnings).toEqual(expect.arrayContaining([expect.stringMatching(warning)]));
  });

  it.each([
    ['a plain Service', []],
    ['ClientIP on a ClusterIP Service', [withClientIPAffinity()]],
    ['Cookie on an nginx Ingress', [withCookieAffinity()]],
    ['Cookie on a Traefik Ingress', [withCookieAffinity(), withExposure({ ingressClassName: 'traefik' })]],
  ])('%s has no warnings', (_name, mods) => {
    expect(summary(...mods).warnings).toEqual([]);
  });

  it.each([
    {
      name: 'a Service: its cluster address',
      mods: [withExposure({ servicePort: 8080 })],
      url: 'http://shop-web.shop.svc:8080',
    },
    { name: 'an Ingress with a host', mods: [withCookieAffinity()], url: 'http://shop.example.test' },
    {
      name: 'an Ingress with TLS',
      mods: [withCookieAffinity(), withExposure({ tlsSecretName: 't' })],
      url: 'https://shop.example.test',
    },
    { name: 'a Gateway with a host', mods: [withCookieAffinity('Gateway')], url: 'http://shop.example.test' },
    { name: 'an Ingress without host: unknown', mods: [withExposure({ type: 'Ingress' })], url: undefined },
  ])('url of $name', ({ mods, url }) => {
    expect(summary(...mods).url).toBe(url);
  });

  it('matches the snapshot for ClientIP behind an Ingress', () => {
    expect(
      summary(withExposure({ type: 'Ingress', sessionAffinity: 'ClientIP', host: 'x.example' })),
    ).toMatchSnapshot();
  });
});
