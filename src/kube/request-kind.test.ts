import { describe, expect, it } from '@jest/globals';
import { requestKind } from './request-kind.js';

describe('requestKind', () => {
  it.each([
    ['GET', '/api/v1/namespaces/a/secrets/x', false, 'GET', 'secrets'],
    ['LIST', '/api/v1/namespaces/a/configmaps', false, 'LIST', 'configmaps'],
    ['LIST', '/api/v1/configmaps', false, 'LIST', 'configmaps'],
    ['POST', '/api/v1/namespaces/a/events', false, 'POST', 'events'],
    ['PATCH', '/apis/apps/v1/namespaces/a/deployments/web', true, 'PATCH (dry run)', 'deployments'],
    ['PATCH', '/apis/apps/v1/namespaces/a/deployments/web', false, 'PATCH', 'deployments'],
    [
      'PATCH',
      '/apis/scalable.dev/v1alpha1/namespaces/a/scalableapps/shop/status',
      false,
      'PATCH',
      'scalableapps/status',
    ],
    ['GET', '/apis/coordination.k8s.io/v1/namespaces/a/leases/l', false, 'GET', 'leases'],
    [
      'LIST',
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
      false,
      'LIST',
      'customresourcedefinitions',
    ],
    ['GET', '/version', false, 'GET', 'other'],
  ] as const)('%s %s (dry run: %s) is %s of %s', (verb, path, dryRun, kindVerb, resource) => {
    expect(requestKind(verb, path, dryRun)).toEqual({ verb: kindVerb, resource });
  });
});
