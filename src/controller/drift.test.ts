import { describe, expect, it } from '@jest/globals';
import { quantityValue } from '../api/quantity.js';
import { drift, firstDifference, ownedFieldPaths } from './drift.js';

const M = 'scalable-app-operator';

describe('quantityValue', () => {
  it.each([
    ['500m', 0.5],
    ['0.5', 0.5],
    ['1Gi', 2 ** 30],
    ['1024Mi', 2 ** 30],
    ['2', 2],
    ['1e3', 1000],
    ['128974848', 128974848],
  ])('%s is %d', (s, v) => expect(quantityValue(s)).toBeCloseTo(v));
  it('is undefined for non-quantities', () => expect(quantityValue('http')).toBeUndefined());
});

describe('firstDifference', () => {
  it('ignores fields the server added', () => {
    expect(
      firstDifference(
        { spec: { ports: [{ port: 80, targetPort: 'http' }] } },
        { spec: { ports: [{ port: 80, targetPort: 'http', protocol: 'TCP' }], clusterIP: '198.19.0.9' } },
      ),
    ).toBeUndefined();
  });
  it('compares quantities by value', () => {
    expect(firstDifference({ cpu: '0.5', memory: '1Gi' }, { cpu: '500m', memory: '1024Mi' })).toBeUndefined();
    expect(firstDifference({ cpu: 1 }, { cpu: '1' })).toBeUndefined();
    expect(firstDifference({ cpu: '1' }, { cpu: '2' })).toBe('.cpu');
  });
  it('finds a changed scalar by path', () => {
    expect(
      firstDifference({ spec: { template: { image: 'a:2' } } }, { spec: { template: { image: 'a:1' } } }),
    ).toBe('.spec.template.image');
  });
  it('treats a list of another length as different', () => {
    expect(firstDifference({ args: ['a'] }, { args: ['a', 'b'] })).toBe('.args');
  });
  it('treats desired empty objects and lists as matching absent ones', () => {
    expect(firstDifference({ emptyDir: {}, env: [] }, {})).toBeUndefined();
  });
});

describe('ownedFieldPaths', () => {
  it('lists object fields and stops at lists', () => {
    const paths = ownedFieldPaths(
      [
        {
          manager: M,
          operation: 'Apply',
          fieldsV1: {
            'f:metadata': { 'f:labels': { 'f:app.kubernetes.io/name': {} } },
            'f:spec': {
              'f:replicas': {},
              'f:template': {
                'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:image': {} } } },
              },
            },
          },
        },
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          fieldsV1: { 'f:spec': { 'f:other': {} } },
        },
      ],
      M,
    );
    expect(paths.map((p) => p.join('/')).sort()).toEqual([
      'metadata/labels/app.kubernetes.io/name',
      'spec/replicas',
      'spec/template/spec/containers',
    ]);
  });
});

describe('drift', () => {
  const live = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'shop-web',
      managedFields: [
        { manager: M, operation: 'Apply', fieldsV1: { 'f:spec': { 'f:replicas': {}, 'f:paused': {} } } },
      ],
    },
    spec: { replicas: 3, paused: false },
  };

  it('reports no change when everything desired is live and nothing owned is undesired', () => {
    expect(
      drift(
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'shop-web' },
          spec: { replicas: 3, paused: false },
        },
        live,
        M,
      ),
    ).toEqual({
      changed: false,
    });
  });

  it('needs an apply to drop a field we own but no longer want (replicas handed to the HPA)', () => {
    expect(
      drift(
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'shop-web' },
          spec: { paused: false },
        },
        live,
        M,
      ),
    ).toEqual({
      changed: true,
      reason: 'no longer desired: .spec.replicas',
    });
  });

  it('handles field names with dots (label keys, file names in a ConfigMap)', () => {
    const cm = {
      metadata: {
        labels: { 'app.kubernetes.io/name': 'x' },
        managedFields: [
          {
            manager: M,
            operation: 'Apply',
            fieldsV1: {
              'f:metadata': { 'f:labels': { 'f:app.kubernetes.io/name': {} } },
              'f:data': { 'f:ping.sh': {} },
            },
          },
        ],
      },
      data: { 'ping.sh': 'echo' },
    };
    expect(
      drift({ metadata: { labels: { 'app.kubernetes.io/name': 'x' } }, data: { 'ping.sh': 'echo' } }, cm, M),
    ).toEqual({
      changed: false,
    });
    expect(drift({ metadata: { labels: { 'app.kubernetes.io/name': 'x' } }, data: {} }, cm, M)).toEqual({
      changed: true,
      reason: 'no longer desired: .data.ping.sh',
    });
  });

  it('needs an apply when the object is absent or edited', () => {
    expect(drift({ spec: {} }, undefined, M).changed).toBe(true);
    expect(drift({ spec: { replicas: 4 } }, live, M)).toEqual({
      changed: true,
      reason: 'differs at .spec.replicas',
    });
  });
});

describe('ownedFieldPaths of a cached object', () => {
  it('is worked out once per object (every pass reads the same cached object until it changes)', () => {
    const managedFields = [
      { manager: 'op', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:replicas': {} } } },
    ];
    const first = ownedFieldPaths(managedFields, 'op');
    expect(first).toEqual([['spec', 'replicas']]);
    expect(ownedFieldPaths(managedFields, 'op')).toBe(first);
    expect(ownedFieldPaths([...managedFields], 'op')).not.toBe(first); // another object: its own paths
  });
});
