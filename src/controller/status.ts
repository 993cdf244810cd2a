// Status from what is observed: per-component conditions from the live workloads, Ready, Progressing and Degraded
// from those and this pass's failure, replica counts for kubectl and the scale subresource, and endpoints. Pure:
// the caller passes the live objects. One small function per condition.
import type {
  Condition,
  ConditionType,
  ScalableApp,
  ScalableAppStatus,
  ShardMapStatus,
} from '../api/v1alpha1/index.js';
import { databaseEndpoints } from '../builders/database/index.js';
import { cacheEndpoint, formatEndpoint } from '../builders/endpoints.js';
import { GATEWAY_GROUP, type HTTPRoute, type ParentReference } from '../builders/exposure/httproute.js';
import { COMPONENT_LABEL, ROLE_LABEL, SHARD_LABEL, selectorLabels } from '../builders/meta.js';
import type { K8sObject } from '../builders/types.js';
import type { Failure, LiveLookup } from './apply.js';
import { type ConditionInput, mergeConditions } from './conditions.js';
import type { ExposureSummary } from './exposure-summary.js';
import { recordOf } from './replication-record.js';
import type { ReshardingReport } from './resharding-monitor.js';
import { type WorkloadState, workloadState } from './readiness.js';

export interface StatusInput {
  app: ScalableApp;
  desired: readonly K8sObject[];
  live: LiveLookup;
  /** The failure of this pass, if any (apply rejected, forbidden, not owned, ...): shows as Degraded. */
  failure?: Failure;
  /** This pass applied everything: observedGeneration may advance. */
  succeeded: boolean;
  paused: boolean;
  exposure: ExposureSummary;
  endpoints: StatusEndpoints;
  bindingSecretName?: string;
  /** What the replication monitor is waiting for or doing in each group of the database (failing over). */
  replicationActivity?: { database: readonly string[]; cache: readonly string[] };
  /** The shard map as the resharding monitor last saw it (undefined before its first pass). */
  resharding?: ReshardingReport;
  now: Date;
}

export interface StatusEndpoints {
  cache?: string;
  primary?: string;
  replicas?: string;
  shards: { index: number; write: string; read: string }[];
}

/** The endpoints status shows: the Services of the enabled data tier. */
export function statusEndpoints(app: ScalableApp): StatusEndpoints {
  const db = databaseEndpoints(app);
  const database = app.spec.database?.enabled;
  return {
    cache: app.spec.cache?.enabled ? formatEndpoint(cacheEndpoint(app)) : undefined,
    primary: database ? formatEndpoint(db.primary) : undefined,
    replicas: database ? formatEndpoint(db.replicas) : undefined,
    shards: db.shards.map((s) => ({
      index: s.index,
      write: formatEndpoint(s.primary),
      read: formatEndpoint(s.replicas),
    })),
  };
}

/** A desired workload and what its live object says. */
export interface Workload {
  obj: K8sObject;
  state: WorkloadState;
}

type ComponentCondition = Extract<
  ConditionType,
  'WebReady' | 'CacheReady' | 'DatabaseReady' | 'WorkersReady'
>;
const COMPONENTS: readonly { condition: ComponentCondition; component: string }[] = [
  { condition: 'WebReady', component: 'web' },
  { condition: 'CacheReady', component: 'cache' },
  { condition: 'DatabaseReady', component: 'database' },
  { condition: 'WorkersReady', component: 'workers' },
];

const componentOf = (o: K8sObject) => o.metadata.labels?.[COMPONENT_LABEL];
const isWorkload = (o: K8sObject) => o.kind === 'Deployment' || o.kind === 'StatefulSet';

export function computeStatus(input: StatusInput): ScalableAppStatus {
  const { app } = input;
  const workloads = input.desired.filter(isWorkload).map((obj) => ({
    obj,
    state: workloadState(live(input, obj), `${obj.kind} ${obj.metadata.name}`),
  }));
  const of = (component: string) => workloads.filter((w) => componentOf(w.obj) === component);
  const components = [
    ...COMPONENTS.filter((c) => of(c.component).length > 0).map(
      (c) =>
        failingOver(c.condition, input.replicationActivity) ??
        componentCondition(c.condition, c.component, of(c.component)),
    ),
    exposureCondition(input),
  ];
  const failed = COMPONENTS.flatMap((c) => of(c.component)).filter((w) => w.state.failed);
  const generationObserved =
    input.succeeded || (app.status?.observedGeneration ?? -1) >= (app.metadata.generation ?? 0);
  const summary = { components, failure: input.failure, generationObserved };
  const observedGeneration = input.succeeded ? app.metadata.generation : app.status?.observedGeneration;
  const reshardingKept = lastReported(input).condition;
  return {
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
    conditions: [
      ...mergeConditions(
        app.status?.conditions,
        [
          readyCondition(summary),
          progressingCondition({ ...summary, paused: input.paused, anyFailed: failed.length > 0 }),
          degradedCondition(input.failure, failed),
          ...components,
          ...(input.resharding ? [reshardingCondition(input.resharding)] : []),
        ],
        app.metadata.generation,
        input.now,
      ),
      ...(reshardingKept ? [reshardingKept] : []),
    ],
    ...(of('web').length ? { web: webStatus(app, of('web')) } : {}),
    ...(of('cache').length ? { cache: cacheStatus(of('cache'), input.endpoints) } : {}),
    ...(of('database').length ? { database: databaseStatus(input, of('database')) } : {}),
    exposure: { mechanism: input.exposure.mechanism },
    ...(input.bindingSecretName ? { bindingSecretName: input.bindingSecretName } : {}),
    ...(input.exposure.url ? { url: input.exposure.url } : {}),
  };
}

const live = (input: StatusInput, obj: K8sObject) => input.live(obj) as Parameters<typeof workloadState>[0];

// ---- conditions

/** A component is ready when every workload of it is; else why not: RolloutFailed, Creating or PodsNotReady. */
export function componentCondition(
  type: ComponentCondition,
  label: string,
  workloads: readonly Workload[],
): ConditionInput {
  const notReady = workloads.filter((w) => !w.state.ready);
  if (notReady.length === 0) {
    const c = counts(workloads);
    return {
      type,
      status: 'True',
      reason: 'PodsReady',
      message: `${label}: ${c.ready}/${c.desired} pods ready`,
    };
  }
  const reason = notReady.some((w) => w.state.failed)
    ? 'RolloutFailed'
    : notReady.some((w) => !w.state.exists)
      ? 'Creating'
      : 'PodsNotReady';
  return { type, status: 'False', reason, message: notReady.map((w) => w.state.message).join('; ') };
}

/** A replication group of the database or cache has no primary, and the operator is waiting or failing over. */
function failingOver(
  type: ComponentCondition,
  activity: StatusInput['replicationActivity'],
): ConditionInput | undefined {
  const of =
    type === 'DatabaseReady' ? activity?.database : type === 'CacheReady' ? activity?.cache : undefined;
  return of?.length ? { type, status: 'False', reason: 'FailingOver', message: of.join('; ') } : undefined;
}

/**
 * Traffic can arrive: the front door (Services of the web and exposure components, Ingress, HTTPRoute) exists, and
 * whoever carries traffic to it has taken it: a LoadBalancer Service has an address, an Ingress controller has
 * admitted the Ingress (an address in its status), the parent Gateway has accepted the HTTPRoute with its
 * references resolved. Until then False, saying what it waits for or, from the Gateway, why it refused.
 */
export function exposureCondition(input: Pick<StatusInput, 'desired' | 'live' | 'exposure'>): ConditionInput {
  const frontDoor = input.desired.filter(
    (o) =>
      o.kind === 'Ingress' ||
      o.kind === 'HTTPRoute' ||
      (o.kind === 'Service' && ['web', 'exposure'].includes(componentOf(o) ?? '')),
  );
  const missing = frontDoor.filter((o) => !input.live(o));
  if (missing.length) {
    const names = missing.map((o) => `${o.kind} ${o.metadata.name}`).join(', ');
    return { type: 'ExposureReady', status: 'False', reason: 'Creating', message: `waiting for ${names}` };
  }
  const warnings = input.exposure.warnings.length ? ` Warning: ${input.exposure.warnings.join(' ')}` : '';
  const notTaken = frontDoor.map((o) => notCarrying(o, input.live(o) as LiveFrontDoor)).filter(isDefined);
  if (notTaken.length) {
    const message = notTaken.map((w) => w.message).join(' ');
    return {
      type: 'ExposureReady',
      status: 'False',
      reason: notTaken[0]!.reason,
      message: `${message}${warnings}`,
    };
  }
  return {
    type: 'ExposureReady',
    status: 'True',
    reason: 'Exposed',
    message: `${input.exposure.mechanism}.${warnings}`,
  };
}

/** What the front door's live objects may say about who carries their traffic. */
interface LiveFrontDoor {
  metadata?: { generation?: number };
  spec?: { ingressClassName?: string };
  status?: {
    loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] };
    parents?: RouteParentStatus[];
  };
}

/** An entry of an HTTPRoute's status.parents, written by the controller of a parent Gateway. */
interface RouteParentStatus {
  parentRef?: { group?: string; kind?: string; name?: string; namespace?: string; sectionName?: string };
  conditions?: {
    type?: string;
    status?: string;
    reason?: string;
    message?: string;
    observedGeneration?: number;
  }[];
}

type NotCarrying = { reason: string; message: string } | undefined;

const isDefined = <T>(v: T | undefined): v is T => v !== undefined;

const hasAddress = (live: LiveFrontDoor) =>
  (live.status?.loadBalancer?.ingress ?? []).some((a) => a.ip || a.hostname);

/** Why no traffic reaches this front-door object yet, or undefined when something carries it. */
function notCarrying(desired: K8sObject, live: LiveFrontDoor): NotCarrying {
  const name = desired.metadata.name;
  switch (desired.kind) {
    case 'Service':
      return (desired.spec as { type?: string } | undefined)?.type === 'LoadBalancer' && !hasAddress(live)
        ? { reason: 'WaitingForLoadBalancer', message: `Service ${name} has no load balancer address yet.` }
        : undefined;
    case 'Ingress':
      return hasAddress(live) ? undefined : ingressNotAdmitted(desired, live);
    case 'HTTPRoute':
      return routeNotAccepted(desired, live);
    default:
      return undefined;
  }
}

/** An Ingress no controller has admitted: which controller it waits for (the API server may default the class). */
function ingressNotAdmitted(desired: K8sObject, live: LiveFrontDoor): NotCarrying {
  const className =
    live.spec?.ingressClassName ??
    (desired.spec as { ingressClassName?: string } | undefined)?.ingressClassName;
  const waitingFor = className
    ? `waiting for the controller of IngressClass ${className} to admit it`
    : "no ingressClassName, waiting for the controller of the cluster's default IngressClass to admit it";
  return {
    reason: 'WaitingForIngressController',
    message: `Ingress ${desired.metadata.name} has no address yet: ${waitingFor}.`,
  };
}

/** A condition reason as the API server accepts it (metav1.Condition). */
const VALID_REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;
const ROUTE_CONDITIONS = [
  { type: 'Accepted', fallbackReason: 'RouteNotAccepted' },
  { type: 'ResolvedRefs', fallbackReason: 'RefsNotResolved' },
] as const;

/**
 * An HTTPRoute its parent Gateway has not accepted with every reference resolved (Gateway API route status: one
 * entry per parent and controller). Another Gateway's entry does not count, nor one written for an older
 * generation of the route. One entry accepting it is enough; else a refusal is reported with the Gateway's reason.
 */
function routeNotAccepted(desired: K8sObject, live: LiveFrontDoor): NotCarrying {
  const route = desired as HTTPRoute;
  const parent = route.spec.parentRefs[0]!;
  const routeNamespace = route.metadata.namespace;
  const gateway = `Gateway ${parent.namespace ?? routeNamespace}/${parent.name}`;
  const waiting = (what: string) => ({
    reason: 'WaitingForGateway',
    message: `HTTPRoute ${route.metadata.name}: waiting for ${gateway} to ${what}.`,
  });
  const ours = (live.status?.parents ?? []).filter((p) => sameParent(p.parentRef, parent, routeNamespace));
  if (ours.length === 0) return waiting('accept it (no status from its controller yet)');
  const generation = live.metadata?.generation ?? 0;
  const current = (p: RouteParentStatus) =>
    (p.conditions ?? []).filter((c) => (c.observedGeneration ?? generation) >= generation); // unset: cannot tell
  const isTrue = (p: RouteParentStatus, type: string) =>
    current(p).some((c) => c.type === type && c.status === 'True');
  if (ours.some((p) => ROUTE_CONDITIONS.every((c) => isTrue(p, c.type)))) return undefined;
  for (const { type, fallbackReason } of ROUTE_CONDITIONS) {
    const refusal = ours.flatMap(current).find((c) => c.type === type && c.status === 'False');
    if (!refusal) continue;
    const reason = refusal.reason ?? '';
    return {
      reason: VALID_REASON.test(reason) && reason.length <= 1024 ? reason : fallbackReason,
      message: `HTTPRoute ${route.metadata.name}: ${gateway} says ${type}=False (${reason})${why(refusal.message)}.`,
    };
  }
  const reported = ours.flatMap((p) => p.conditions ?? []);
  if (reported.length > 0 && ours.flatMap(current).length === 0) {
    const seen = Math.max(...reported.map((c) => c.observedGeneration ?? 0)); // all set, all older
    return waiting(`report on generation ${generation} (its status is of generation ${seen})`);
  }
  const unmet = ROUTE_CONDITIONS.filter((c) => !ours.some((p) => isTrue(p, c.type)));
  return waiting(`report ${unmet.map((c) => `${c.type}=True`).join(' and ')}`);
}

/** A message from elsewhere (up to 32,768 characters), cut to fit in a sentence of ours and the API's limits. */
const QUOTED_MAX = 1024;
const why = (message: string | undefined) => {
  const m = message?.replace(/\.$/, '') ?? '';
  if (!m) return '';
  return `: ${m.length > QUOTED_MAX ? `${m.slice(0, QUOTED_MAX - 1)}…` : m}`;
};

/** Whether a status entry's parentRef is the spec's parent (group, kind and namespace defaulted as the API does). */
function sameParent(
  ref: RouteParentStatus['parentRef'],
  spec: ParentReference,
  routeNamespace: string | undefined,
): boolean {
  return (
    !!ref &&
    (ref.group ?? GATEWAY_GROUP) === spec.group &&
    (ref.kind ?? 'Gateway') === spec.kind &&
    ref.name === spec.name &&
    (ref.namespace ?? routeNamespace) === (spec.namespace ?? routeNamespace) &&
    ref.sectionName === spec.sectionName
  );
}

interface Summary {
  /** The component conditions (WebReady, ..., ExposureReady). */
  components: readonly ConditionInput[];
  failure: Failure | undefined;
  /** The latest spec has been applied, by this pass or an earlier one. */
  generationObserved: boolean;
}

/** Ready summarizes: this pass's failure first, then the components that are not ready, then a stale spec. */
export function readyCondition({ components, failure, generationObserved }: Summary): ConditionInput {
  if (failure) return { type: 'Ready', status: 'False', reason: failure.reason, message: failure.message };
  const notReady = components.filter((c) => c.status !== 'True');
  if (notReady.length) {
    const message = notReady.map((c) => `${c.type}: ${c.message}`).join('; ');
    return { type: 'Ready', status: 'False', reason: 'ComponentsNotReady', message };
  }
  if (!generationObserved) {
    return { type: 'Ready', status: 'False', reason: 'Reconciling', message: 'applying the latest spec' };
  }
  return {
    type: 'Ready',
    status: 'True',
    reason: 'AllComponentsReady',
    message: 'every enabled component is serving',
  };
}

/** Progressing while the spec is being applied or components converge; not while paused, failed or stable. */
export function progressingCondition({
  components,
  failure,
  generationObserved,
  paused,
  anyFailed,
}: Summary & { paused: boolean; anyFailed: boolean }): ConditionInput {
  if (paused) {
    return {
      type: 'Progressing',
      status: 'False',
      reason: 'Paused',
      message: 'spec.paused is true: observing only',
    };
  }
  const notReady = components.filter((c) => c.status !== 'True');
  if (generationObserved && (notReady.length === 0 || anyFailed || failure)) {
    return { type: 'Progressing', status: 'False', reason: 'Stable', message: 'nothing in progress' };
  }
  return {
    type: 'Progressing',
    status: 'True',
    reason: generationObserved ? 'RollingOut' : 'Reconciling',
    message: notReady.length
      ? `waiting for ${notReady.map((c) => c.type).join(', ')}`
      : 'applying the latest spec',
  };
}

/** Degraded by this pass's failure, else by workloads whose rollout failed. */
export function degradedCondition(failure: Failure | undefined, failed: readonly Workload[]): ConditionInput {
  if (failure) return { type: 'Degraded', status: 'True', reason: failure.reason, message: failure.message };
  if (failed.length) {
    const message = failed.map((w) => w.state.message).join('; ');
    return { type: 'Degraded', status: 'True', reason: 'RolloutFailed', message };
  }
  return { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'no failures observed' };
}

/**
 * An invalid spec: Ready, Progressing and Degraded say InvalidSpec and the component conditions stay as they
 * were (nothing was changed, so nothing new was observed).
 */
export function invalidStatus(
  app: { metadata?: { generation?: number }; status?: ScalableAppStatus },
  message: string,
  now: Date,
): ScalableAppStatus {
  return haltedStatus(app, { reason: 'InvalidSpec', message }, 'waiting for a valid spec', now);
}

/**
 * A pass that stopped before building anything (an invalid spec, credentials it could not read): Ready,
 * Progressing and Degraded say why; the component conditions stay as they were.
 */
export function haltedStatus(
  app: { metadata?: { generation?: number }; status?: ScalableAppStatus },
  failure: Failure,
  waitingFor: string,
  now: Date,
): ScalableAppStatus {
  const previous = app.status?.conditions ?? [];
  const { reason, message } = failure;
  const halted: ConditionInput[] = [
    { type: 'Ready', status: 'False', reason, message },
    { type: 'Progressing', status: 'False', reason, message: waitingFor },
    { type: 'Degraded', status: 'True', reason, message },
  ];
  const conditions = [
    ...mergeConditions(previous, halted, app.metadata?.generation, now),
    ...previous.filter((c) => !halted.some((i) => i.type === c.type)),
  ];
  return { ...(app.status ?? {}), conditions };
}

// ---- per-component summaries

const counts = (ws: readonly Workload[]) => ({
  ready: ws.reduce((n, w) => n + Math.min(w.state.readyReplicas, w.state.desired), 0),
  desired: ws.reduce((n, w) => n + w.state.desired, 0),
  replicas: ws.reduce((n, w) => n + w.state.replicas, 0),
});

function webStatus(app: ScalableApp, web: readonly Workload[]): NonNullable<ScalableAppStatus['web']> {
  const c = counts(web);
  const selector = Object.entries(selectorLabels(app, 'web'))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return {
    replicas: c.replicas,
    readyReplicas: c.ready,
    desiredReplicas: c.desired,
    selector,
    ready: `${c.ready}/${c.desired}`,
  };
}

function cacheStatus(
  cache: readonly Workload[],
  endpoints: StatusEndpoints,
): NonNullable<ScalableAppStatus['cache']> {
  const c = counts(cache);
  return {
    readyReplicas: c.ready,
    ready: `${c.ready}/${c.desired}`,
    ...(endpoints.cache ? { endpoint: endpoints.cache } : {}),
  };
}

function databaseStatus(
  input: StatusInput,
  db: readonly Workload[],
): NonNullable<ScalableAppStatus['database']> {
  const { app, endpoints } = input;
  const role = (w: Workload) => w.obj.metadata.labels?.[ROLE_LABEL];
  const shard = (w: Workload) => w.obj.metadata.labels?.[SHARD_LABEL] ?? 'main';
  /** Who is primary, and the last failover, from the group's primary StatefulSet (replication-record.ts). */
  const record = (group: string) => {
    const sts = db.find((w) => shard(w) === group && role(w) === 'primary');
    const live = sts && input.live(sts.obj);
    return live ? recordOf(live as Parameters<typeof recordOf>[0]) : undefined;
  };
  const main = record('main');
  const mainGroup = db.filter((w) => shard(w) === 'main');
  const primary = mainGroup.filter((w) => role(w) === 'primary');
  const replicas = counts(mainGroup.filter((w) => role(w) === 'replica'));
  const all = counts(db);
  const shardIndexes = [...new Set(db.map(shard).filter((s) => s !== 'main'))]
    .map(Number)
    .sort((a, b) => a - b);
  return {
    engine: app.spec.database?.engine,
    ready: `${all.ready}/${all.desired}`,
    primary: {
      ready: primary.length > 0 && primary.every((w) => w.state.ready),
      ...(endpoints.primary ? { endpoint: endpoints.primary } : {}),
      ...(main ? { pod: main.primary } : {}),
      ...(main?.lastFailover ? { lastFailover: main.lastFailover } : {}),
    },
    replicas: {
      replicas: replicas.desired,
      readyReplicas: replicas.ready,
      ...(endpoints.replicas ? { endpoint: endpoints.replicas } : {}),
    },
    ...(shardIndexes.length
      ? {
          shards: shardIndexes.map((index) => {
            const ep = endpoints.shards.find((s) => s.index === index);
            const r = record(String(index));
            return {
              index,
              ready: db.filter((w) => shard(w) === String(index)).every((w) => w.state.ready),
              ...(ep ? { writeEndpoint: ep.write, readEndpoint: ep.read } : {}),
              ...(r ? { primaryPod: r.primary } : {}),
              ...(r?.lastFailover ? { lastFailover: r.lastFailover } : {}),
            };
          }),
        }
      : {}),
    ...shardMapOf(input),
  };
}

function shardMapOf(input: StatusInput): { shardMap?: ShardMapStatus } {
  const shardMap = input.resharding ? shardMapStatus(input.resharding) : lastReported(input).shardMap;
  return shardMap ? { shardMap } : {};
}

/**
 * What status says of the shard map while the resharding monitor has not reported in this process (a restarted
 * operator, before its first pass): what it said before, as it was, so that a restart neither drops the condition
 * and the map for a moment nor writes status for them. Nothing without a database: no monitor will report.
 */
function lastReported({ app, resharding }: StatusInput): {
  condition?: Condition;
  shardMap?: ShardMapStatus;
} {
  if (resharding || !app.spec.database?.enabled) return {};
  return {
    condition: app.status?.conditions?.find((c) => c.type === 'Resharding'),
    shardMap: app.status?.database?.shardMap,
  };
}

function shardMapStatus(r: ReshardingReport): ShardMapStatus {
  return {
    state: r.state,
    version: r.version,
    shards: r.toCount,
    movedBuckets: r.movedBuckets,
    totalBuckets: r.totalBuckets,
    ...(r.maxPauseMs !== undefined ? { maxBatchPauseMs: Math.round(r.maxPauseMs) } : {}),
    message: r.message.slice(0, 4096),
  };
}

/**
 * Resharding: True while rows move to added shards (MovingBuckets; Waiting, or why: UnbucketedRows) or while a batch that was rolled back
 * waits to be tried again (its reason: KeyConflict, Error); False (MapCurrent) when the map routes to every
 * shard of the spec; Unknown (MapNotRead) until the map was first read.
 */
export function reshardingCondition(r: ReshardingReport): ConditionInput {
  const progress = r.totalBuckets > 0 ? ` (${r.movedBuckets}/${r.totalBuckets} buckets moved)` : '';
  if (r.version === 0 && r.totalBuckets === 0) {
    // Not read yet: a new app's groups are starting, or the main primary does not answer.
    return { type: 'Resharding', status: 'Unknown', reason: 'MapNotRead', message: r.message };
  }
  switch (r.state) {
    case 'idle':
      return {
        type: 'Resharding',
        status: 'False',
        reason: 'MapCurrent',
        message: `shard map version ${r.version} routes to ${r.toCount === 0 ? 'the main database only' : `${r.toCount} shards`}`,
      };
    case 'moving':
      return {
        type: 'Resharding',
        status: 'True',
        reason: 'MovingBuckets',
        message: `${r.message}${progress}`,
      };
    case 'waiting':
      return {
        type: 'Resharding',
        status: 'True',
        reason: r.reason ?? 'Waiting',
        message: `${r.message}${progress}`,
      };
    case 'failed':
      return {
        type: 'Resharding',
        status: 'True',
        reason: r.reason ?? 'Failed',
        message: `${r.message}${progress}`,
      };
  }
}
