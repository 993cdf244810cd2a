import { describe, expect, it } from '@jest/globals';
import type { KubernetesObject } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../builders/meta.js';
import { DATA_TIER_POD, OPTIONAL_OWNED_TYPES, OWNED_TYPES, SCALABLE_APP } from '../kube/resources.js';
import { LAST_APPLIED_ANNOTATION, cacheTransformFor } from './cache-transforms.js';
import { drift } from './drift.js';

const ours = {
  manager: FIELD_MANAGER,
  operation: 'Apply',
  fieldsV1: { 'f:spec': { 'f:replicas': {}, 'f:paused': {} } },
};
const ourStatus = { manager: FIELD_MANAGER, operation: 'Apply', subresource: 'status', fieldsV1: {} };
const controllerManager = {
  manager: 'kube-controller-manager',
  operation: 'Update',
  subresource: 'status',
  fieldsV1: { 'f:status': { 'f:replicas': {} } },
};
const kubectl = { manager: 'kubectl-client-side-apply', operation: 'Update', fieldsV1: { 'f:metadata': {} } };

const deployment = (): KubernetesObject & Record<string, unknown> => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'shop-web',
    namespace: 'shop',
    uid: 'u1',
    resourceVersion: '42',
    labels: { 'app.kubernetes.io/instance': 'shop' },
    annotations: { [LAST_APPLIED_ANNOTATION]: '{"a huge":"copy"}', 'deployment.kubernetes.io/revision': '3' },
    ownerReferences: [{ apiVersion: 'scalable.dev/v1alpha1', kind: 'ScalableApp', name: 'shop', uid: 'a1' }],
    managedFields: [ours, controllerManager, kubectl, ourStatus],
  },
  spec: { replicas: 3, paused: false },
  status: { readyReplicas: 3 },
});

const pod = (): KubernetesObject & Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'shop-db-0',
    namespace: 'shop',
    uid: 'p1',
    resourceVersion: '7',
    generateName: 'shop-db-',
    labels: { 'scalable.dev/role': 'primary' },
    annotations: { 'scalable.dev/demote': 'true', [LAST_APPLIED_ANNOTATION]: '{}' },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'shop-db', uid: 's1' }],
    deletionTimestamp: '2026-12-01T00:00:00Z' as unknown as Date, // a string on the wire
    managedFields: [kubectl],
  },
  spec: { containers: [{ name: 'mariadb', image: 'mariadb:11', env: [{ name: 'A', value: 'b' }] }] },
  status: {
    phase: 'Running',
    podIP: '10.0.0.7',
    hostIP: '192.168.0.1',
    conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [{ name: 'mariadb', ready: true, restartCount: 0, image: 'mariadb:11' }],
  },
});

const DEPLOYMENT = OWNED_TYPES.find((t) => t.kind === 'Deployment')!;
const INGRESS = OWNED_TYPES.find((t) => t.kind === 'Ingress')!;
const HTTP_ROUTE = OPTIONAL_OWNED_TYPES.find((t) => t.kind === 'HTTPRoute')!;

/** An Ingress its controller admitted (the address ExposureReady waits for). */
const ingress = (): KubernetesObject & Record<string, unknown> => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: {
    name: 'shop-web',
    namespace: 'shop',
    resourceVersion: '9',
    annotations: { [LAST_APPLIED_ANNOTATION]: '{}' },
    managedFields: [ours, kubectl],
  },
  spec: { ingressClassName: 'traefik' },
  status: { loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } },
});

/** An HTTPRoute its Gateway accepted (the parent status ExposureReady waits for). */
const httpRoute = (): KubernetesObject & Record<string, unknown> => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: {
    name: 'shop-web',
    namespace: 'shop',
    generation: 2,
    resourceVersion: '9',
    annotations: { [LAST_APPLIED_ANNOTATION]: '{}' },
    managedFields: [ours],
  },
  spec: { parentRefs: [{ name: 'public' }] },
  status: {
    parents: [
      {
        parentRef: { name: 'public' },
        controllerName: 'example.test/gateway',
        conditions: [{ type: 'Accepted', status: 'True', observedGeneration: 2 }],
      },
    ],
  },
});
const path = (o: unknown, p: string) =>
  p.split('.').reduce<unknown>((n, k) => (n as Record<string, unknown> | undefined)?.[k], o);

describe('cache transforms', () => {
  describe.each([
    {
      kind: 'an owned Deployment',
      type: DEPLOYMENT,
      make: deployment,
      kept: [
        'metadata.name',
        'metadata.namespace',
        'metadata.uid',
        'metadata.resourceVersion',
        'metadata.labels',
        'metadata.ownerReferences',
        'metadata.annotations.deployment.kubernetes.io/revision',
        'spec.replicas',
        'status.readyReplicas',
      ],
      dropped: [`metadata.annotations.${LAST_APPLIED_ANNOTATION}`],
    },
    {
      kind: 'a data-tier Pod',
      type: DATA_TIER_POD,
      make: pod,
      kept: [
        'metadata.name',
        'metadata.namespace',
        'metadata.uid',
        'metadata.resourceVersion',
        'metadata.labels',
        'metadata.annotations.scalable.dev/demote',
        'metadata.ownerReferences',
        'metadata.deletionTimestamp',
        'status.podIP',
        'status.conditions',
      ],
      dropped: [
        `metadata.annotations.${LAST_APPLIED_ANNOTATION}`,
        'metadata.managedFields',
        'metadata.generateName',
        'spec',
        'status.phase',
        'status.hostIP',
        'status.containerStatuses',
      ],
    },
    {
      kind: 'an owned Ingress (ExposureReady reads its address and class)',
      type: INGRESS,
      make: ingress,
      kept: ['spec.ingressClassName', 'status.loadBalancer.ingress'],
      dropped: [`metadata.annotations.${LAST_APPLIED_ANNOTATION}`],
    },
    {
      kind: 'an owned HTTPRoute (ExposureReady reads its generation and parent statuses)',
      type: HTTP_ROUTE,
      make: httpRoute,
      kept: ['metadata.generation', 'spec.parentRefs', 'status.parents'],
      dropped: [`metadata.annotations.${LAST_APPLIED_ANNOTATION}`],
    },
  ])('$kind', ({ type, make, kept, dropped }) => {
    const original = make();
    const cached = cacheTransformFor(type)(make());
    // Keys may contain dots (label and annotation keys): look them up by the known prefix.
    const lookup = (o: unknown, p: string) => {
      const m = /^metadata\.annotations\.(.+)$/.exec(p);
      return m
        ? (path(o, 'metadata.annotations') as Record<string, unknown> | undefined)?.[m[1]!]
        : path(o, p);
    };
    it.each(kept)('keeps %s', (p) => {
      expect(lookup(cached, p)).toBeDefined();
      expect(lookup(cached, p)).toEqual(lookup(original, p));
    });
    it.each(dropped)('drops %s', (p) => {
      expect(lookup(original, p)).toBeDefined();
      expect(lookup(cached, p)).toBeUndefined();
    });
  });

  it('keeps only our field manager’s managedFields entries (apply and status), dropping every other manager’s', () => {
    const cached = cacheTransformFor(DEPLOYMENT)(deployment());
    expect(cached.metadata?.managedFields).toEqual([ours, ourStatus]);
  });

  it('drops managedFields and annotations entirely when nothing of them is left', () => {
    const app = {
      apiVersion: 'scalable.dev/v1alpha1',
      kind: 'ScalableApp',
      metadata: { name: 'a', annotations: { [LAST_APPLIED_ANNOTATION]: '{}' }, managedFields: [kubectl] },
    };
    expect(cacheTransformFor(SCALABLE_APP)(app)).toEqual({
      apiVersion: 'scalable.dev/v1alpha1',
      kind: 'ScalableApp',
      metadata: { name: 'a' },
    });
  });

  it('leaves drift detection intact: a cached object still shows a field we own but no longer want', () => {
    const cached = cacheTransformFor(DEPLOYMENT)(deployment()) as Record<string, unknown>;
    const desired = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'shop-web', namespace: 'shop' },
      spec: { paused: false }, // replicas handed to an HPA
    };
    expect(drift(desired, cached, FIELD_MANAGER)).toEqual({
      changed: true,
      reason: 'no longer desired: .spec.replicas',
    });
    expect(drift({ ...desired, spec: { replicas: 3, paused: false } }, cached, FIELD_MANAGER)).toEqual({
      changed: false,
    });
  });
});
