import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import type { K8sObject } from '../builders/types.js';
import type { KubeClient, RequestOptions, Verb } from '../kube/client.js';
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

describe('applyChanged: dry runs', () => {
  const configMap = (name: string, value: string): K8sObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'shop' },
    data: { value },
  });
  const ours = (o: K8sObject) => ({ ...o, metadata: { ...o.metadata, resourceVersion: '5' } });

  /** applyChanged of `desired` over `cached` (this app's objects); the requests it made, as `verb name (dry run)`. */
  async function requestsOf(desired: K8sObject[], cached: K8sObject[]) {
    const requests: string[] = [];
    const client = {
      request: async (verb: Verb, path: string, opts?: RequestOptions) => {
        requests.push(`${verb} ${path.split('/').pop()}${opts?.query?.dryRun ? ' (dry run)' : ''}`);
        return {};
      },
    } as unknown as KubeClient;
    const live = {
      known: (o: K8sObject) => cached.find((c) => c.metadata.name === o.metadata.name),
      fetch: async () => undefined,
      remember: () => undefined,
      isOurs: () => true,
    };
    await applyChanged(client, desired, live as never, pino({ level: 'silent' }));
    return requests;
  }

  it('one changed object the app has is applied without a dry run: there is nothing else to leave half-applied', async () => {
    const [a, b] = [configMap('a', '2'), configMap('b', '1')];
    expect(await requestsOf([a, b], [ours(configMap('a', '1')), ours(b)])).toEqual(['PATCH a']);
  });

  it('with more changed objects, every one after the first is dry-run before the first is applied', async () => {
    const [a, b, c] = [configMap('a', '2'), configMap('b', '2'), configMap('c', '1')];
    expect(await requestsOf([a, b, c], [ours(configMap('a', '1')), ours(configMap('b', '1'))])).toEqual([
      'PATCH b (dry run)',
      'PATCH c (dry run)',
      'PATCH a',
      'PATCH b',
      'PATCH c',
    ]);
  });

  it('a first object the caches do not have is dry-run too (its dry run says whether it exists)', async () => {
    const [a, b] = [configMap('a', '1'), configMap('b', '2')];
    expect(await requestsOf([a, b], [ours(configMap('b', '1'))])).toEqual([
      'PATCH a (dry run)',
      'PATCH b (dry run)',
      'PATCH a',
      'PATCH b',
    ]);
  });
});
