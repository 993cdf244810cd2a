import { describe, expect, it } from '@jest/globals';
import { buildContext, TEST_CREDENTIALS } from '../../test/fixtures/build-context.js';
import {
  type Modifier,
  withCache,
  withCookieAffinity,
  withExposure,
  withShards,
} from '../../test/fixtures/scalable-app.js';
import type { ScalableApp } from '../api/v1alpha1/index.js';
import { buildAll } from '../builders/index.js';
import type { K8sObject } from '../builders/types.js';
import type { ConditionInput } from './conditions.js';
import { exposureSummary } from './exposure-summary.js';
import type { WorkloadState } from './readiness.js';
import {
  type StatusInput,
  type Workload,
  componentCondition,
  computeStatus,
  degradedCondition,
  exposureCondition,
  invalidStatus,
  progressingCondition,
  readyCondition,
  reshardingCondition,
  statusEndpoints,
} from './status.js';
import type { ReshardingReport } from './resharding-monitor.js';

const NOW = new Date('2026-01-02T03:04:05Z');

/** A workload of `name` in the given state (ready unless said otherwise). */
function workload(name: string, state: Partial<WorkloadState> = {}): Workload {
  return {
    obj: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name } },
    state: {
      exists: true,
      ready: true,
      progressing: false,
      failed: false,
      desired: 2,
      readyReplicas: 2,
      replicas: 2,
      message: `Deployment ${name}: 2/2 ready`,
      ...state,
    },
  };
}

const notReady = (name: string) =>
  workload(name, { ready: false, progressing: true, readyReplicas: 1, message: `${name}: 1/2 ready` });
const failed = (name: string) =>
  workload(name, { ready: false, failed: true, readyReplicas: 0, message: `${name}: 0/2 ready (deadline)` });

const component = (type: ConditionInput['type'], status: 'True' | 'False', message = `${type} says so`) =>
  ({ type, status, reason: status === 'True' ? 'PodsReady' : 'PodsNotReady', message }) as ConditionInput;

const failure = { reason: 'ApplyFailed', message: 'Deployment shop-web: the server is on fire' };

describe('componentCondition', () => {
  it.each([
    {
      name: 'every workload ready is PodsReady with ready pods counted up to the desired number',
      workloads: [workload('a'), workload('b', { readyReplicas: 3, desired: 2 })],
      want: { status: 'True', reason: 'PodsReady', message: 'web: 4/4 pods ready' },
    },
    {
      name: 'a failed rollout is RolloutFailed, naming only the workloads that are not ready',
      workloads: [workload('a'), notReady('b'), failed('c')],
      want: { status: 'False', reason: 'RolloutFailed', message: 'b: 1/2 ready; c: 0/2 ready (deadline)' },
    },
    {
      name: 'a workload that does not exist yet is Creating',
      workloads: [
        notReady('a'),
        workload('b', { exists: false, ready: false, message: 'b does not exist yet' }),
      ],
      want: { status: 'False', reason: 'Creating', message: 'a: 1/2 ready; b does not exist yet' },
    },
    {
      name: 'pods still starting are PodsNotReady',
      workloads: [notReady('a')],
      want: { status: 'False', reason: 'PodsNotReady', message: 'a: 1/2 ready' },
    },
  ])('$name', ({ workloads, want }) => {
    expect(componentCondition('WebReady', 'web', workloads)).toEqual({ type: 'WebReady', ...want });
  });
});

describe('exposureCondition', () => {
  /** The front door of an app, with `live` saying which desired objects exist. */
  function input(mods: Modifier[], live: (o: K8sObject) => Record<string, unknown> | undefined) {
    const { app } = buildContext(...mods);
    return {
      desired: buildAll({ app, credentials: TEST_CREDENTIALS }),
      live,
      exposure: exposureSummary(app),
    };
  }
  const exists = () => ({});
  const GATEWAYS_PUBLIC = { name: 'public', namespace: 'gateways' };
  const cond = (type: string, status: string, reason: string, message: string, observedGeneration = 1) => ({
    type,
    status,
    reason,
    message,
    observedGeneration,
  });
  const accepted = cond('Accepted', 'True', 'Accepted', 'accepted');
  const resolved = cond('ResolvedRefs', 'True', 'ResolvedRefs', 'resolved');
  /** A status.parents[] entry, as a Gateway controller writes it. */
  const parentStatus = (
    parentRef: Record<string, string>,
    ...conditions: Partial<ReturnType<typeof cond>>[]
  ) => ({
    parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', ...parentRef },
    controllerName: 'example.test/gateway-controller',
    conditions,
  });
  /** Every object exists; the HTTPRoute (of `generation`) carries these parent statuses. */
  const route =
    (parents: ReturnType<typeof parentStatus>[], generation = 1) =>
    (o: K8sObject) =>
      o.kind === 'HTTPRoute' ? { metadata: { generation }, status: { parents } } : {};

  it.each([
    {
      name: 'a missing web Service is Creating, naming it',
      mods: [],
      live: (o: K8sObject) => (o.kind === 'Service' ? undefined : {}),
      want: { status: 'False', reason: 'Creating', message: 'waiting for Service shop-web' },
    },
    {
      name: 'a missing Service of the data tier does not hold the front door back',
      mods: [withCache()],
      live: (o: K8sObject) => (o.metadata.name.startsWith('shop-cache') ? undefined : {}),
      want: { status: 'True', reason: 'Exposed', message: 'Service (round robin).' },
    },
    {
      name: 'a LoadBalancer Service without an address is WaitingForLoadBalancer',
      mods: [withExposure({ serviceType: 'LoadBalancer' })],
      live: exists,
      want: {
        status: 'False',
        reason: 'WaitingForLoadBalancer',
        message: 'Service shop-web has no load balancer address yet.',
      },
    },
    {
      name: 'a LoadBalancer Service with an address is Exposed',
      mods: [withExposure({ serviceType: 'LoadBalancer' })],
      live: () => ({ status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } } }),
      want: { status: 'True', reason: 'Exposed', message: 'Service LoadBalancer (round robin).' },
    },
    {
      name: 'an Ingress no controller has admitted (no address in its status) is WaitingForIngressController, naming the class',
      mods: [withCookieAffinity('Ingress')],
      live: (o: K8sObject) => (o.kind === 'Ingress' ? { spec: o.spec } : {}),
      want: {
        status: 'False',
        reason: 'WaitingForIngressController',
        message:
          'Ingress shop-web has no address yet: waiting for the controller of IngressClass nginx to admit it.',
      },
    },
    {
      name: 'an Ingress without a class that no controller admitted says it waits for the default class, with the warnings',
      mods: [withExposure({ type: 'Ingress', sessionAffinity: 'ClientIP' })],
      live: (o: K8sObject) => (o.kind === 'Ingress' ? { spec: o.spec, status: { loadBalancer: {} } } : {}),
      want: {
        status: 'False',
        reason: 'WaitingForIngressController',
        message: expect.stringMatching(
          /^Ingress shop-web has no address yet: no ingressClassName, waiting for the controller of the cluster's default IngressClass to admit it\. Warning: sessionAffinity ClientIP behind an Ingress/,
        ),
      },
    },
    {
      name: 'an Ingress whose class the API server defaulted names that class',
      mods: [withExposure({ type: 'Ingress' })],
      live: (o: K8sObject) => (o.kind === 'Ingress' ? { spec: { ingressClassName: 'traefik' } } : {}),
      want: {
        status: 'False',
        reason: 'WaitingForIngressController',
        message:
          'Ingress shop-web has no address yet: waiting for the controller of IngressClass traefik to admit it.',
      },
    },
    {
      name: 'an Ingress with an address in its status is Exposed, with the summary’s warnings appended',
      mods: [withExposure({ type: 'Ingress', sessionAffinity: 'ClientIP' })],
      live: (o: K8sObject) =>
        o.kind === 'Ingress' ? { status: { loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } } } : {},
      want: {
        status: 'True',
        reason: 'Exposed',
        message: expect.stringMatching(
          /^Ingress default class \(ClientIP affinity\)\. Warning: sessionAffinity ClientIP behind an Ingress/,
        ),
      },
    },
    {
      name: 'an Ingress address given as a hostname counts too',
      mods: [withCookieAffinity('Ingress')],
      live: (o: K8sObject) =>
        o.kind === 'Ingress' ? { status: { loadBalancer: { ingress: [{ hostname: 'localhost' }] } } } : {},
      want: { status: 'True', reason: 'Exposed', message: expect.stringMatching(/^Ingress nginx/) },
    },
    {
      name: 'an HTTPRoute no Gateway has reported on is WaitingForGateway, naming the Gateway',
      mods: [withCookieAffinity('Gateway')],
      live: (o: K8sObject) => (o.kind === 'HTTPRoute' ? { metadata: { generation: 1 } } : {}),
      want: {
        status: 'False',
        reason: 'WaitingForGateway',
        message: expect.stringMatching(
          /^HTTPRoute shop-web: waiting for Gateway gateways\/public to accept it \(no status from its controller yet\)\. Warning: /,
        ),
      },
    },
    {
      name: 'an HTTPRoute accepted only by another Gateway still waits for its own',
      mods: [withCookieAffinity('Gateway')],
      live: route([parentStatus({ name: 'other', namespace: 'gateways' }, accepted, resolved)]),
      want: { status: 'False', reason: 'WaitingForGateway' },
    },
    {
      name: 'an HTTPRoute its Gateway accepted with every reference resolved is Exposed',
      mods: [withCookieAffinity('Gateway')],
      live: route([parentStatus(GATEWAYS_PUBLIC, accepted, resolved)]),
      want: {
        status: 'True',
        reason: 'Exposed',
        message: expect.stringMatching(/^HTTPRoute on Gateway gateways\/public/),
      },
    },
    {
      name: 'a parent Gateway in the route’s own namespace matches whether the status names the namespace or not',
      mods: [withExposure({ type: 'Gateway', gateway: { name: 'public', sectionName: 'http' } })],
      live: route([
        parentStatus({ name: 'public', namespace: 'shop', sectionName: 'http' }, accepted, resolved),
      ]),
      want: { status: 'True', reason: 'Exposed' },
    },
    {
      name: 'a status entry for another listener (sectionName) of the same Gateway is not ours',
      mods: [withExposure({ type: 'Gateway', gateway: { name: 'public', sectionName: 'http' } })],
      live: route([parentStatus({ name: 'public', sectionName: 'https' }, accepted, resolved)]),
      want: { status: 'False', reason: 'WaitingForGateway' },
    },
    {
      name: 'a Gateway that refused the route (Accepted=False) gives its reason and message',
      mods: [withCookieAffinity('Gateway')],
      live: route([
        parentStatus(
          GATEWAYS_PUBLIC,
          cond('Accepted', 'False', 'NotAllowedByListeners', 'no listener allows routes from namespace shop'),
          cond('ResolvedRefs', 'True', 'ResolvedRefs', ''),
        ),
      ]),
      want: {
        status: 'False',
        reason: 'NotAllowedByListeners',
        message: expect.stringMatching(
          /^HTTPRoute shop-web: Gateway gateways\/public says Accepted=False \(NotAllowedByListeners\): no listener allows routes from namespace shop\. Warning: /,
        ),
      },
    },
    {
      name: 'an accepted route whose backend is not resolved (ResolvedRefs=False) gives the Gateway’s reason',
      mods: [withCookieAffinity('Gateway')],
      live: route([
        parentStatus(
          GATEWAYS_PUBLIC,
          accepted,
          cond('ResolvedRefs', 'False', 'BackendNotFound', 'Service shop-web not found.'),
        ),
      ]),
      want: {
        status: 'False',
        reason: 'BackendNotFound',
        message: expect.stringMatching(
          /says ResolvedRefs=False \(BackendNotFound\): Service shop-web not found\./,
        ),
      },
    },
    {
      name: 'a Gateway reason that is not a valid condition reason is replaced, and kept in the message',
      mods: [withCookieAffinity('Gateway')],
      live: route([parentStatus(GATEWAYS_PUBLIC, cond('Accepted', 'False', 'no such listener!', 'oops'))]),
      want: {
        status: 'False',
        reason: 'RouteNotAccepted',
        message: expect.stringMatching(/says Accepted=False \(no such listener!\): oops\./),
      },
    },
    {
      name: 'a Gateway’s long message is cut to 1,024 characters, so the status stays within the API’s limits',
      mods: [withCookieAffinity('Gateway')],
      live: route([parentStatus(GATEWAYS_PUBLIC, cond('Accepted', 'False', 'Invalid', 'x'.repeat(40_000)))]),
      want: {
        status: 'False',
        reason: 'Invalid',
        message: expect.stringMatching(/ \(Invalid\): x{1023}…\. Warning: /),
      },
    },
    {
      name: 'an accepted route without ResolvedRefs yet waits for it',
      mods: [withCookieAffinity('Gateway')],
      live: route([parentStatus(GATEWAYS_PUBLIC, accepted)]),
      want: {
        status: 'False',
        reason: 'WaitingForGateway',
        message: expect.stringMatching(
          /^HTTPRoute shop-web: waiting for Gateway gateways\/public to report ResolvedRefs=True\./,
        ),
      },
    },
    {
      name: 'conditions the Gateway wrote for an older generation of the route do not count',
      mods: [withCookieAffinity('Gateway')],
      live: route([parentStatus(GATEWAYS_PUBLIC, accepted, resolved)], 2),
      want: {
        status: 'False',
        reason: 'WaitingForGateway',
        message: expect.stringMatching(
          /^HTTPRoute shop-web: waiting for Gateway gateways\/public to report on generation 2 \(its status is of generation 1\)\./,
        ),
      },
    },
    {
      name: 'conditions without an observedGeneration count as current (nothing tells otherwise)',
      mods: [withCookieAffinity('Gateway')],
      live: route(
        [
          parentStatus(
            GATEWAYS_PUBLIC,
            { type: 'Accepted', status: 'True', reason: 'Accepted', message: '' },
            { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: '' },
          ),
        ],
        3,
      ),
      want: { status: 'True', reason: 'Exposed' },
    },
    {
      name: 'one parent entry accepting the route is enough when another controller refused it for the same Gateway',
      mods: [withCookieAffinity('Gateway')],
      live: route([
        parentStatus(GATEWAYS_PUBLIC, cond('Accepted', 'False', 'NoMatchingParent', 'not mine')),
        parentStatus(GATEWAYS_PUBLIC, accepted, resolved),
      ]),
      want: { status: 'True', reason: 'Exposed' },
    },
  ])('$name', ({ mods, live, want }) => {
    expect(exposureCondition(input(mods, live))).toEqual({
      type: 'ExposureReady',
      message: expect.any(String),
      ...want,
    });
  });
});

describe('readyCondition', () => {
  it.each([
    {
      name: 'a failure of this pass wins over ready components: Ready says the failure',
      summary: { components: [component('WebReady', 'True')], failure, generationObserved: true },
      want: { status: 'False', reason: 'ApplyFailed', message: failure.message },
    },
    {
      name: 'components that are not ready are listed with their messages',
      summary: {
        components: [component('WebReady', 'False', 'web: 1/2'), component('CacheReady', 'True')],
        failure: undefined,
        generationObserved: true,
      },
      want: { status: 'False', reason: 'ComponentsNotReady', message: 'WebReady: web: 1/2' },
    },
    {
      name: 'ready components with a spec not yet applied are Reconciling',
      summary: { components: [component('WebReady', 'True')], failure: undefined, generationObserved: false },
      want: { status: 'False', reason: 'Reconciling', message: 'applying the latest spec' },
    },
    {
      name: 'every component ready at the latest spec is AllComponentsReady',
      summary: {
        components: [component('WebReady', 'True'), component('ExposureReady', 'True')],
        failure: undefined,
        generationObserved: true,
      },
      want: { status: 'True', reason: 'AllComponentsReady', message: 'every enabled component is serving' },
    },
  ])('$name', ({ summary, want }) => {
    expect(readyCondition(summary)).toEqual({ type: 'Ready', ...want });
  });
});

describe('progressingCondition', () => {
  const base = {
    components: [component('WebReady', 'True')],
    failure: undefined,
    generationObserved: true,
    paused: false,
    anyFailed: false,
  };
  it.each([
    {
      name: 'a paused app is not progressing, whatever else is true',
      edit: { paused: true, generationObserved: false },
      want: { status: 'False', reason: 'Paused', message: 'spec.paused is true: observing only' },
    },
    {
      name: 'a spec not yet applied is Reconciling',
      edit: { generationObserved: false },
      want: { status: 'True', reason: 'Reconciling', message: 'applying the latest spec' },
    },
    {
      name: 'a spec not yet applied names the components it waits for',
      edit: { generationObserved: false, components: [component('WebReady', 'False')] },
      want: { status: 'True', reason: 'Reconciling', message: 'waiting for WebReady' },
    },
    {
      name: 'components converging at the latest spec are RollingOut',
      edit: { components: [component('WebReady', 'False'), component('CacheReady', 'False')] },
      want: { status: 'True', reason: 'RollingOut', message: 'waiting for WebReady, CacheReady' },
    },
    {
      name: 'a failed rollout is not progressing any more',
      edit: { components: [component('WebReady', 'False')], anyFailed: true },
      want: { status: 'False', reason: 'Stable', message: 'nothing in progress' },
    },
    {
      name: 'a failed pass is not progressing',
      edit: { components: [component('WebReady', 'False')], failure },
      want: { status: 'False', reason: 'Stable', message: 'nothing in progress' },
    },
    {
      name: 'everything ready at the latest spec is Stable',
      edit: {},
      want: { status: 'False', reason: 'Stable', message: 'nothing in progress' },
    },
  ])('$name', ({ edit, want }) => {
    expect(progressingCondition({ ...base, ...edit })).toEqual({ type: 'Progressing', ...want });
  });
});

describe('degradedCondition', () => {
  it.each([
    {
      name: 'a failure of this pass is Degraded with its reason and message',
      failure,
      failed: [failed('a')],
      want: { status: 'True', reason: 'ApplyFailed', message: failure.message },
    },
    {
      name: 'workloads whose rollout failed are RolloutFailed, each named',
      failure: undefined,
      failed: [failed('a'), failed('b')],
      want: {
        status: 'True',
        reason: 'RolloutFailed',
        message: 'a: 0/2 ready (deadline); b: 0/2 ready (deadline)',
      },
    },
    {
      name: 'no failure is AsExpected',
      failure: undefined,
      failed: [],
      want: { status: 'False', reason: 'AsExpected', message: 'no failures observed' },
    },
  ])('$name', ({ failure, failed, want }) => {
    expect(degradedCondition(failure, failed)).toEqual({ type: 'Degraded', ...want });
  });
});

describe('invalidStatus', () => {
  const before = {
    metadata: { generation: 4 },
    status: {
      observedGeneration: 3,
      web: { replicas: 2, readyReplicas: 2, desiredReplicas: 2, selector: 'a=b', ready: '2/2' },
      conditions: [
        {
          type: 'Ready',
          status: 'False',
          reason: 'ComponentsNotReady',
          message: 'x',
          lastTransitionTime: 'T0',
        },
        {
          type: 'WebReady',
          status: 'True',
          reason: 'PodsReady',
          message: 'web: 2/2',
          lastTransitionTime: 'T0',
        },
      ],
    },
  } as { metadata: { generation: number }; status: NonNullable<ScalableApp['status']> };

  it('says InvalidSpec in Ready, Progressing and Degraded and keeps everything else as observed', () => {
    const status = invalidStatus(before, 'spec.web.port: too big', NOW);
    expect(status.observedGeneration).toBe(3);
    expect(status.web).toEqual(before.status.web);
    expect(status.conditions).toEqual([
      expect.objectContaining({
        type: 'Ready',
        status: 'False',
        reason: 'InvalidSpec',
        lastTransitionTime: 'T0',
      }),
      expect.objectContaining({ type: 'Progressing', status: 'False', reason: 'InvalidSpec' }),
      expect.objectContaining({
        type: 'Degraded',
        status: 'True',
        reason: 'InvalidSpec',
        observedGeneration: 4,
      }),
      before.status.conditions![1],
    ]);
  });
});

describe('reshardingCondition', () => {
  const report = (r: Partial<ReshardingReport>): ReshardingReport => ({
    state: 'idle',
    toCount: 3,
    version: 7,
    movedBuckets: 0,
    totalBuckets: 0,
    message: '',
    ...r,
  });
  it.each<[string, Partial<ReshardingReport>, string, RegExp]>([
    [
      'the map not read yet',
      { state: 'waiting', version: 0, message: 'waiting for shard 0: no ready primary yet' },
      'Unknown MapNotRead',
      /shard 0: no ready primary/,
    ],
    ['the map at the spec’s count', {}, 'False MapCurrent', /version 7 routes to 3 shards/],
    ['an unsharded map', { toCount: 0 }, 'False MapCurrent', /the main database only/],
    [
      'batches moving',
      { state: 'moving', movedBuckets: 64, totalBuckets: 341, message: 'moving 2 → 3' },
      'True MovingBuckets',
      /\(64\/341 buckets moved\)/,
    ],
    [
      'the drain after the last flip',
      { state: 'waiting', movedBuckets: 341, totalBuckets: 341, message: 'draining' },
      'True Waiting',
      /draining/,
    ],
    [
      'rows without a bucket holding the move',
      { state: 'waiting', reason: 'UnbucketedRows', totalBuckets: 341, message: 'orders on shard 0: 3 rows' },
      'True UnbucketedRows',
      /orders on shard 0/,
    ],
    [
      'a batch rolled back for a key conflict',
      { state: 'failed', reason: 'KeyConflict', totalBuckets: 341, message: 'orders: key 7 on both' },
      'True KeyConflict',
      /orders: key 7/,
    ],
  ])('%s', (_name, r, expected, message) => {
    const c = reshardingCondition(report(r));
    expect(`${c.status} ${c.reason}`).toBe(expected);
    expect(c.message).toMatch(message);
  });
});

describe('computeStatus', () => {
  /** Status of an app whose desired workloads all exist with every pod ready. */
  function statusOf(mods: Modifier[], edit: Partial<StatusInput> = {}) {
    const { app } = buildContext(...mods);
    app.metadata.generation = 5;
    const desired = buildAll({ app, credentials: TEST_CREDENTIALS });
    const live = (o: K8sObject) => {
      const replicas = (o.spec as { replicas?: number } | undefined)?.replicas ?? 1;
      return {
        ...o,
        metadata: { ...o.metadata, generation: 1 },
        status: { observedGeneration: 1, replicas, readyReplicas: replicas, updatedReplicas: replicas },
      };
    };
    return computeStatus({
      app,
      desired,
      live,
      succeeded: true,
      paused: false,
      exposure: exposureSummary(app),
      endpoints: statusEndpoints(app),
      bindingSecretName: 'shop-binding',
      now: NOW,
      ...edit,
    });
  }
  const types = (s: ReturnType<typeof statusOf>) =>
    Object.fromEntries((s.conditions ?? []).map((c) => [c.type, `${c.status} ${c.reason}`]));

  it('shows the shard map the resharding monitor saw, and Resharding beside the components (not in Ready)', () => {
    const resharding: ReshardingReport = {
      state: 'moving',
      toCount: 3,
      version: 12,
      movedBuckets: 96,
      totalBuckets: 341,
      message: 'moving buckets from shards 0, 1 to shard 2',
      maxPauseMs: 812.4,
    };
    const status = statusOf([withShards(3)], { resharding });
    expect(status.database?.shardMap).toEqual({
      state: 'moving',
      version: 12,
      shards: 3,
      movedBuckets: 96,
      totalBuckets: 341,
      maxBatchPauseMs: 812,
      message: 'moving buckets from shards 0, 1 to shard 2',
    });
    expect(types(status)).toMatchObject({
      Ready: 'True AllComponentsReady',
      Resharding: 'True MovingBuckets',
    });
    expect(statusOf([withShards(3)]).database?.shardMap).toBeUndefined();
  });

  it("keeps the Resharding condition and shard map in status until a restarted operator's monitor reports", () => {
    const resharding: ReshardingReport = {
      state: 'idle',
      toCount: 3,
      version: 4,
      movedBuckets: 0,
      totalBuckets: 0,
      message: 'shard map current',
    };
    const before = statusOf([withShards(3)], { resharding, now: new Date('2026-11-30T08:00:00Z') });
    const withPrevious: Modifier = (app) => void (app.status = structuredClone(before) as typeof app.status);
    // A new process: its resharding monitor has not read the map yet.
    const after = statusOf([withShards(3), withPrevious]);
    expect(after.conditions?.find((c) => c.type === 'Resharding')).toEqual(
      before.conditions?.find((c) => c.type === 'Resharding'),
    );
    expect(after.database?.shardMap).toEqual(before.database?.shardMap);
    // Without a database (no monitor will report), nothing is kept.
    const cacheOnly = statusOf([withCache(), withPrevious]);
    expect(cacheOnly.conditions?.map((c) => c.type)).not.toContain('Resharding');
  });

  it('a pass that applied everything advances observedGeneration and, all pods ready, says Ready', () => {
    const status = statusOf([withCache(), withShards(2)]);
    expect(status.observedGeneration).toBe(5);
    expect(types(status)).toEqual({
      Ready: 'True AllComponentsReady',
      Progressing: 'False Stable',
      Degraded: 'False AsExpected',
      WebReady: 'True PodsReady',
      CacheReady: 'True PodsReady',
      DatabaseReady: 'True PodsReady',
      ExposureReady: 'True Exposed',
    });
    expect(status.web).toMatchObject({ readyReplicas: 2, desiredReplicas: 2, ready: '2/2' });
    expect(status.web?.selector).toContain('app.kubernetes.io/component=web');
    expect(status.cache).toEqual({ readyReplicas: 1, ready: '1/1', endpoint: 'shop-cache:6379' });
    expect(status.database?.shards?.map((s) => s.index)).toEqual([0, 1]);
    // Without a failover recorded, the primary is the primary StatefulSet's pod.
    expect(status.database?.primary).toEqual({
      ready: true,
      endpoint: 'shop-db-primary:3306',
      pod: 'shop-db-primary-0',
    });
    expect(status).toMatchObject({ bindingSecretName: 'shop-binding', url: 'http://shop-web.shop.svc:80' });
  });

  it('a failed pass keeps the previous observedGeneration and says Degraded with the failure', () => {
    const status = statusOf([], { succeeded: false, failure });
    expect(status.observedGeneration).toBeUndefined();
    expect(types(status)).toMatchObject({ Ready: 'False ApplyFailed', Degraded: 'True ApplyFailed' });
  });

  it('an app whose Ingress no controller has admitted is not Ready and says what it waits for', () => {
    const status = statusOf([withCookieAffinity('Ingress')]);
    expect(types(status)).toMatchObject({
      Ready: 'False ComponentsNotReady',
      WebReady: 'True PodsReady',
      ExposureReady: 'False WaitingForIngressController',
    });
    expect(status.conditions?.find((c) => c.type === 'Ready')?.message).toBe(
      'ExposureReady: Ingress shop-web has no address yet: waiting for the controller of IngressClass nginx to admit it.',
    );
  });

  it('a component the spec leaves out has no condition and no summary', () => {
    const status = statusOf([]);
    expect(Object.keys(types(status))).not.toContain('CacheReady');
    expect(status.cache).toBeUndefined();
    expect(status.database).toBeUndefined();
  });
});
