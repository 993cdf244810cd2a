import { describe, expect, it } from '@jest/globals';
import { buildContext } from '../../../test/fixtures/build-context.js';
import { withAutoscaling, withWeb, withWorkers } from '../../../test/fixtures/scalable-app.js';
import { buildWebPdb, buildWorkersPdb } from './pdb.js';

describe('buildWebPdb', () => {
  it.each([
    ['one replica', [withWeb({ replicas: 1 })]],
    ['ten replicas', [withWeb({ replicas: 10 })]],
    ['an autoscaled tier', [withAutoscaling()]],
  ])('lets one web pod at a time be evicted with %s', (_name, mods) => {
    const pdb = buildWebPdb(buildContext(...mods));
    expect(pdb.spec!.maxUnavailable).toBe(1);
    expect(pdb.spec).not.toHaveProperty('minAvailable');
  });

  it('is <app>-web (policy/v1), selects the web pods, and never blocks a drain on unhealthy pods', () => {
    const pdb = buildWebPdb(buildContext());
    expect(pdb.apiVersion).toBe('policy/v1');
    expect(pdb.metadata.name).toBe('shop-web');
    expect(pdb.spec!.selector).toEqual({
      matchLabels: {
        'app.kubernetes.io/name': 'shop',
        'app.kubernetes.io/instance': 'shop',
        'app.kubernetes.io/component': 'web',
      },
    });
    expect(pdb.spec!.unhealthyPodEvictionPolicy).toBe('AlwaysAllow');
  });

  it('matches the snapshot', () => {
    expect(buildWebPdb(buildContext())).toMatchSnapshot();
  });
});

describe('buildWorkersPdb', () => {
  it.each([
    ['absent', [], false],
    ['disabled', [withWorkers({ enabled: false })], false],
    ['enabled', [withWorkers()], true],
  ])('workers %s: a PDB: %s', (_name, mods, exists) => {
    const pdb = buildWorkersPdb(buildContext(...mods));
    expect(pdb !== undefined).toBe(exists);
    if (pdb) {
      expect(pdb.metadata.name).toBe('shop-workers');
      expect(pdb.spec).toMatchObject({
        maxUnavailable: 1,
        selector: { matchLabels: { 'app.kubernetes.io/component': 'workers' } },
      });
    }
  });
});
