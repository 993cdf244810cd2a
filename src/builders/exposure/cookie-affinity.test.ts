import { describe, expect, it } from '@jest/globals';
import { buildContext } from '../../../test/fixtures/build-context.js';
import { withCookieAffinity, withExposure } from '../../../test/fixtures/scalable-app.js';
import { cookieControllers } from './cookie-affinity.js';

describe('cookieControllers', () => {
  it.each([
    {
      name: 'class nginx',
      mods: [withCookieAffinity(), withExposure({ ingressClassName: 'nginx' })],
      expected: ['nginx'],
    },
    {
      name: 'a class containing nginx',
      mods: [withCookieAffinity(), withExposure({ ingressClassName: 'internal-NGINX' })],
      expected: ['nginx'],
    },
    {
      name: 'class traefik',
      mods: [withCookieAffinity(), withExposure({ ingressClassName: 'traefik' })],
      expected: ['traefik'],
    },
    {
      name: 'no class (the default may be either)',
      mods: [withCookieAffinity(), withExposure({ ingressClassName: undefined })],
      expected: ['nginx', 'traefik'],
    },
    {
      name: 'an empty class',
      mods: [withCookieAffinity(), withExposure({ ingressClassName: '' })],
      expected: ['nginx', 'traefik'],
    },
    {
      name: 'another controller',
      mods: [withCookieAffinity(), withExposure({ ingressClassName: 'haproxy' })],
      expected: [],
    },
    {
      name: 'an Ingress without cookie affinity',
      mods: [withExposure({ type: 'Ingress', ingressClassName: 'nginx' })],
      expected: [],
    },
    { name: 'a Gateway with cookie affinity', mods: [withCookieAffinity('Gateway')], expected: [] },
  ])('$name: $expected', ({ mods, expected }) => {
    expect(cookieControllers(buildContext(...mods).app.spec.exposure)).toEqual(expected);
  });
});
