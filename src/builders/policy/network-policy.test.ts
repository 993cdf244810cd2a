import { describe, expect, it } from '@jest/globals';
import { buildContext } from '../../../test/fixtures/build-context.js';
import { withCache, withDatabase } from '../../../test/fixtures/scalable-app.js';
import { selectorLabels } from '../meta.js';
import { OPERATOR_PEER, buildCacheNetworkPolicy, buildDatabaseNetworkPolicy } from './network-policy.js';

const peers = (...components: ('web' | 'workers' | 'database')[]) => {
  const { app } = buildContext(withDatabase());
  return components.map((c) => ({ podSelector: { matchLabels: selectorLabels(app, c) } }));
};

describe('buildCacheNetworkPolicy', () => {
  it.each([
    ['absent', []],
    ['disabled', [withCache({ enabled: false })]],
  ])('there is none when Redis is %s', (_name, mods) => {
    expect(buildCacheNetworkPolicy(buildContext(...mods))).toBeUndefined();
  });

  it('lets only the web and workers pods reach the Redis pods, on 6379 only', () => {
    const np = buildCacheNetworkPolicy(buildContext(withCache()))!;
    expect(np.metadata.name).toBe('shop-cache-ingress');
    expect(np.spec.podSelector.matchLabels).toEqual(selectorLabels(buildContext().app, 'cache'));
    expect(np.spec.policyTypes).toEqual(['Ingress']);
    expect(np.spec.ingress).toEqual([
      { from: peers('web', 'workers'), ports: [{ protocol: 'TCP', port: 6379 }] },
    ]);
  });

  it('matches the snapshot', () => {
    expect(buildCacheNetworkPolicy(buildContext(withCache()))).toMatchSnapshot();
  });
});

describe('buildDatabaseNetworkPolicy', () => {
  it.each([
    ['absent', []],
    ['disabled', [withDatabase({ enabled: false })]],
  ])('there is none when the database is %s', (_name, mods) => {
    expect(buildDatabaseNetworkPolicy(buildContext(...mods))).toBeUndefined();
  });

  it('lets web, workers, the other database pods (replication) and the operator (failover) reach the database pods on 3306', () => {
    const np = buildDatabaseNetworkPolicy(buildContext(withDatabase()))!;
    expect(np.metadata.name).toBe('shop-db-ingress');
    expect(np.spec.podSelector.matchLabels).toEqual(
      selectorLabels(buildContext(withDatabase()).app, 'database'),
    );
    expect(np.spec.ingress).toEqual([
      {
        from: [...peers('web', 'workers', 'database'), OPERATOR_PEER],
        ports: [{ protocol: 'TCP', port: 3306 }],
      },
    ]);
    // The chart's operator pods carry these labels, in any namespace.
    expect(OPERATOR_PEER).toEqual({
      namespaceSelector: {},
      podSelector: {
        matchLabels: {
          'app.kubernetes.io/name': 'scalable-app-operator',
          'app.kubernetes.io/component': 'operator',
        },
      },
    });
  });

  it('selects the pods of the engine in use', () => {
    const np = buildDatabaseNetworkPolicy(buildContext(withDatabase({ engine: 'mariadb' })))!;
    expect(np.spec.podSelector.matchLabels['app.kubernetes.io/name']).toBe('mariadb');
  });
});
