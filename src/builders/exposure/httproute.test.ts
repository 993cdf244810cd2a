import { describe, expect, it } from '@jest/globals';
import { buildContext, editedContext } from '../../../test/fixtures/build-context.js';
import { withCookieAffinity, withExposure } from '../../../test/fixtures/scalable-app.js';
import { BuildError } from '../types.js';
import { buildHTTPRoute, gatewayDuration } from './httproute.js';

const build = (...mods: Parameters<typeof buildContext>) => buildHTTPRoute(buildContext(...mods));
const GATEWAY_DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;

describe('buildHTTPRoute', () => {
  it.each([
    ['Service', []],
    ['Ingress', [withCookieAffinity('Ingress')]],
  ])('there is no HTTPRoute for type %s', (_type, mods) => {
    expect(build(...mods)).toBeUndefined();
  });

  it('attaches to the Gateway and sends every path of the host to the web Service port', () => {
    const route = build(
      withExposure({
        type: 'Gateway',
        host: 'shop.example.test',
        servicePort: 8080,
        gateway: { name: 'public', namespace: 'gateways', sectionName: 'https' },
      }),
    )!;
    expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(route.metadata.name).toBe('shop-web');
    expect(route.spec.parentRefs).toEqual([
      {
        group: 'gateway.networking.k8s.io',
        kind: 'Gateway',
        name: 'public',
        namespace: 'gateways',
        sectionName: 'https',
      },
    ]);
    expect(route.spec.hostnames).toEqual(['shop.example.test']);
    expect(route.spec.rules).toEqual([
      {
        matches: [{ path: { type: 'PathPrefix', value: '/' } }],
        backendRefs: [{ name: 'shop-web', port: 8080 }],
      },
    ]);
  });

  it('a Gateway in the app namespace and no host: no namespace, no hostnames', () => {
    const route = build(withExposure({ type: 'Gateway', gateway: { name: 'public' } }))!;
    expect(route.spec.parentRefs[0]).toEqual({
      group: 'gateway.networking.k8s.io',
      kind: 'Gateway',
      name: 'public',
    });
    expect(route.spec).not.toHaveProperty('hostnames');
  });

  it.each([
    {
      name: 'Cookie affinity puts cookie session persistence on the rule',
      mods: [
        withCookieAffinity('Gateway'),
        withExposure({ cookieName: 'route', affinityTimeoutSeconds: 3600 }),
      ],
      expected: { sessionName: 'route', type: 'Cookie', absoluteTimeout: '3600s' },
    },
    {
      name: 'ClientIP affinity has none',
      mods: [withExposure({ type: 'Gateway', gateway: { name: 'g' }, sessionAffinity: 'ClientIP' })],
      expected: undefined,
    },
    {
      name: 'no affinity has none',
      mods: [withExposure({ type: 'Gateway', gateway: { name: 'g' } })],
      expected: undefined,
    },
  ])('$name', ({ mods, expected }) => {
    expect(build(...mods)!.spec.rules[0]!.sessionPersistence).toEqual(expected);
  });

  it('carries the user annotations', () => {
    const route = build(withCookieAffinity('Gateway'), withExposure({ annotations: { team: 'shop' } }))!;
    expect(route.metadata.annotations).toEqual({ team: 'shop' });
  });

  it('type Gateway without a gateway is a BuildError naming spec.exposure.gateway', () => {
    const ctx = editedContext((app) => {
      delete app.spec.exposure.gateway;
    }, withCookieAffinity('Gateway'));
    expect(() => buildHTTPRoute(ctx)).toThrow(BuildError);
    expect(() => buildHTTPRoute(ctx)).toThrow('spec.exposure.gateway: is required when type is Gateway');
  });

  it('matches the snapshot for cookie affinity', () => {
    expect(build(withCookieAffinity('Gateway'))).toMatchSnapshot();
  });
});

describe('gatewayDuration', () => {
  it.each([
    [1, '1s'],
    [10800, '10800s'],
    [86400, '86400s'],
    [99999, '99999s'],
    [100000, '27h2800s'],
  ])('%d seconds is %s, a valid Gateway API duration', (seconds, expected) => {
    expect(gatewayDuration(seconds)).toBe(expected);
    expect(expected).toMatch(GATEWAY_DURATION);
  });
});
