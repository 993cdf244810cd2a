import { describe, expect, it } from '@jest/globals';
import { parseScalableApp } from '../src/api/v1alpha1/parse.js';
import { renderObjects } from '../src/render.js';
import { DEMO_HOST, demoApp } from './demo-app.js';

const env = {
  SAPP_E2E_SHOP_IMAGE: 'localhost/sapp/shop:abc',
  SAPP_E2E_MARIADB_IMAGE: 'localhost/sapp/mariadb:1',
  SAPP_E2E_REDIS_IMAGE: 'localhost/sapp/redis:1',
};

describe('the demo app', () => {
  it('is a valid ScalableApp with the node images and a cookie-sticky Traefik Ingress at shop.localhost', () => {
    const parsed = parseScalableApp(demoApp('demo-ns', env));
    if (!parsed.ok) throw new Error(parsed.message);
    const app = parsed.value;
    expect(app.metadata.namespace).toBe('demo-ns');
    expect(app.spec.web.image).toBe(env.SAPP_E2E_SHOP_IMAGE);
    expect(app.spec.database?.image).toBe(env.SAPP_E2E_MARIADB_IMAGE);
    expect(app.spec.cache?.image).toBe(env.SAPP_E2E_REDIS_IMAGE);
    expect(app.spec.exposure).toMatchObject({
      type: 'Ingress',
      ingressClassName: 'traefik',
      host: DEMO_HOST,
      sessionAffinity: 'Cookie',
    });
  });

  it('builds an Ingress for shop.localhost of class traefik', () => {
    const ingress = renderObjects(JSON.stringify(demoApp('demo-ns', env))).find(
      (o) => o.kind === 'Ingress',
    ) as { spec: { ingressClassName: string; rules: { host: string }[] } } | undefined;
    expect(ingress?.spec.ingressClassName).toBe('traefik');
    expect(ingress?.spec.rules[0]?.host).toBe(DEMO_HOST);
  });

  it('names the missing image variable', () => {
    expect(() => demoApp('x', { ...env, SAPP_E2E_REDIS_IMAGE: undefined })).toThrow(/SAPP_E2E_REDIS_IMAGE/);
  });
});
