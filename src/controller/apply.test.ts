import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import type { K8sObject } from '../builders/types.js';
import type { KubeClient } from '../kube/client.js';
import { ApiError } from '../kube/errors.js';
import { applyChanged, describeError } from './apply.js';

const route: K8sObject = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'shop-web', namespace: 'shop' },
  spec: {},
};

/** The API server's answer to a request for a resource it does not serve (no CRD). */
const notServed = new ApiError(404, 'NotFound', 'the server could not find the requested resource');

describe('describeError', () => {
  it('an apply of a kind the cluster does not serve says which CRD is missing', async () => {
    const client = { request: () => Promise.reject(notServed) } as unknown as KubeClient;
    const nothingLive = {
      known: () => undefined,
      fetch: async () => undefined,
      remember: () => undefined,
      isOurs: () => true,
    };
    const err = await applyChanged(client, [route], nothingLive, pino({ level: 'silent' })).catch((e) => e);
    expect(describeError(err)).toEqual({
      reason: 'KindNotServed',
      message:
        'HTTPRoute shop-web: gateway.networking.k8s.io/v1 HTTPRoute is not served by this cluster: is its CRD installed?',
    });
  });

  it('Forbidden and Invalid keep their reasons', () => {
    expect(describeError(new ApiError(403, 'Forbidden', 'no')).reason).toBe('Forbidden');
    expect(describeError(new ApiError(422, 'Invalid', 'bad')).reason).toBe('Invalid');
  });
});
