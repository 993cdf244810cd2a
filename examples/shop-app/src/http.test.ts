import { describe, expect, it } from '@jest/globals';
import { HttpError, intField, parseCookies, pathId, prefersHtml, Router } from './http.js';

const noop = async () => ({ body: null });

describe('Router', () => {
  const router = new Router().on('GET', '/', noop).on('GET', '/products/:id', noop).on('POST', '/cart', noop);

  it('matches patterns and reports the pattern as the route', () => {
    expect(router.match('GET', '/products/12')).toMatchObject({
      kind: 'found',
      route: '/products/:id',
      params: { id: '12' },
    });
    expect(router.match('HEAD', '/')).toMatchObject({ kind: 'found', route: '/' });
    expect(router.match('GET', '/products/12/')).toMatchObject({ kind: 'found' });
  });

  it('tells a wrong method from an unknown path', () => {
    expect(router.match('GET', '/cart')).toEqual({
      kind: 'method-not-allowed',
      route: '/cart',
      allow: ['POST'],
    });
    expect(router.match('GET', '/products')).toEqual({ kind: 'not-found' });
    expect(router.match('GET', '/products/1/x')).toEqual({ kind: 'not-found' });
  });

  it('survives malformed percent-encoding', () => {
    expect(router.match('GET', '/products/%E0%A4%A')).toMatchObject({
      kind: 'found',
      params: { id: '%E0%A4%A' },
    });
  });
});

describe('input checks', () => {
  it('parses cookies, first one wins', () => {
    expect(parseCookies('a=1; shop_sid=abc; a=2; broken; =x')).toEqual({ a: '1', shop_sid: 'abc' });
    expect(parseCookies(undefined)).toEqual({});
  });

  it('accepts integers as numbers or decimal strings within range, naming the field otherwise', () => {
    expect(intField(3, 'quantity', 1, 99)).toBe(3);
    expect(intField('42', 'customer')).toBe(42);
    for (const bad of [0, 100, 1.5, '1e3', 'x', null, undefined, '']) {
      expect(() => intField(bad, 'quantity', 1, 99)).toThrow(
        new HttpError(400, 'quantity must be an integer between 1 and 99'),
      );
    }
  });

  it('treats a path id that is not a positive integer as not found', () => {
    expect(pathId('17', 'product')).toBe(17);
    for (const bad of ['0', '-1', 'abc', '1.5', '9999999999999999', undefined]) {
      expect(() => pathId(bad, 'product')).toThrow(/product not found/);
    }
  });
});

describe('prefersHtml', () => {
  it.each([
    [
      'a browser (Chromium, Firefox)',
      'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
      true,
    ],
    ['text/html alone', 'text/html', true],
    ['no Accept header (k6, undici)', undefined, false],
    ['curl (*/*)', '*/*', false],
    ['a JSON client', 'application/json', false],
    ['JSON first, HTML lower', 'application/json, text/html;q=0.5', false],
    ['a tie between JSON and HTML', 'text/html, application/json', false],
    ['HTML refused (q=0)', 'text/html;q=0, */*', false],
  ])('%s: %s → %s', (_, accept, html) => expect(prefersHtml(accept)).toBe(html));
});
