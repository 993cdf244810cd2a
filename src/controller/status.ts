// Status from what is observed: per-component conditions from the live workloads, a Ready summary, replica
// counts for kubectl and the scale subresource, and endpoints. Pure: the caller passes the live objects.
import type { ConditionType, ScalableApp, ScalableAppStatus } from '../api/v1alpha1/index.js';
import { COMPONENT_LABEL, ROLE_LABEL, SHARD_LABEL, selectorLabels } from '../builders/meta.js';
import type { K8sObject } from '../builders/types.js';
import { objectKey } from '../kube/resources.js';
import { type ConditionInput, mergeConditions } from './conditions.js';
import { type WorkloadState, workloadState } from './readiness.js';

export type LiveLookup = (desired: K8sObject) => Record<string, unknown> | undefined;

export interface StatusInput {
  app: ScalableApp;
  desired: readonly K8sObject[];
  live: LiveLookup;
  /** The error of this pass, if any (apply rejected, forbidden, ...): shows as Degraded. */
  error?: { reason: string; message: string };
  /** This pass applied everything: observedGeneration may advance. */
  succeeded: boolean;
  paused: boolean;
  exposure: { mechanism: string; warnings: string[]; url?: string };
  endpoints: {
    cache?: string;
    primary?: string;
    replicas?: string;
    shards: { index: number; write: string; read: string }[];
  };
  bindingSecretName?: string;
  now: Date;
}

interface Group {
  condition: ConditionType;
  label: string;
  workloads: { obj: K8sObject; state: WorkloadState }[];
}

const componentOf = (o: K8sObject) => o.metadata.labels?.[COMPONENT_LABEL];
const isWorkload = (o: K8sObject) => o.kind === 'Deployment' || o.kind === 'StatefulSet';

function groupCondition(g: Group): ConditionInput {
  const notReady = g.workloads.filter((w) => !w.state.ready);
  const failed = notReady.filter((w) => w.state.failed);
  const ready = g.workloads.reduce((n, w) => n + Math.min(w.state.readyReplicas, w.state.desired), 0);
  const desired = g.workloads.reduce((n, w) => n + w.state.desired, 0);
  if (notReady.length === 0) {
    return {
      type: g.condition,
      status: 'True',
      reason: 'PodsReady',
      message: `${g.label}: ${ready}/${desired} pods ready`,
    };
  }
  return {
    type: g.condition,
    status: 'False',
    reason: failed.length
      ? 'RolloutFailed'
      : notReady.some((w) => !w.state.exists)
        ? 'Creating'
        : 'PodsNotReady',
    message: notReady.map((w) => w.state.message).join('; '),
  };
}

const counts = (ws: { state: WorkloadState }[]) => ({
  ready: ws.reduce((n, w) => n + Math.min(w.state.readyReplicas, w.state.desired), 0),
  desired: ws.reduce((n, w) => n + w.state.desired, 0),
  replicas: ws.reduce((n, w) => n + w.state.replicas, 0),
});

export function computeStatus(input: StatusInput): ScalableAppStatus {
  const { app, desired, live } = input;
  const workloads = desired.filter(isWorkload).map((obj) => ({
    obj,
    state: workloadState(
      live(obj) as Parameters<typeof workloadState>[0],
      `${obj.kind} ${obj.metadata.name}`,
    ),
  }));
  const byComponent = (c: string) => workloads.filter((w) => componentOf(w.obj) === c);
  const groups: Group[] = [
    { condition: 'WebReady', label: 'web', workloads: byComponent('web') },
    { condition: 'CacheReady', label: 'cache', workloads: byComponent('cache') },
    { condition: 'DatabaseReady', label: 'database', workloads: byComponent('database') },
    { condition: 'WorkersReady', label: 'workers', workloads: byComponent('workers') },
  ].filter((g) => g.workloads.length > 0) as Group[];

  const conditions: ConditionInput[] = groups.map(groupCondition);
  conditions.push(exposureCondition(input));

  const components = conditions.filter((c) => c.type !== 'Ready');
  const notReady = components.filter((c) => c.status !== 'True');
  const anyFailed = groups.some((g) => g.workloads.some((w) => w.state.failed));
  const generationObserved =
    input.succeeded || (app.status?.observedGeneration ?? -1) >= (app.metadata.generation ?? 0);

  let ready: ConditionInput;
  if (input.error) {
    ready = { type: 'Ready', status: 'False', reason: input.error.reason, message: input.error.message };
  } else if (notReady.length === 0 && generationObserved) {
    ready = {
      type: 'Ready',
      status: 'True',
      reason: 'AllComponentsReady',
      message: 'every enabled component is serving',
    };
  } else {
    ready = {
      type: 'Ready',
      status: 'False',
      reason: notReady.length ? 'ComponentsNotReady' : 'Reconciling',
      message: notReady.length
        ? notReady.map((c) => `${c.type}: ${c.message}`).join('; ')
        : 'applying the latest spec',
    };
  }
  const degraded: ConditionInput =
    input.error || anyFailed
      ? {
          type: 'Degraded',
          status: 'True',
          reason: input.error?.reason ?? 'RolloutFailed',
          message:
            input.error?.message ??
            groups
              .flatMap((g) => g.workloads.filter((w) => w.state.failed).map((w) => w.state.message))
              .join('; '),
        }
      : { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'no failures observed' };
  const progressing: ConditionInput = input.paused
    ? {
        type: 'Progressing',
        status: 'False',
        reason: 'Paused',
        message: 'spec.paused is true: observing only',
      }
    : !generationObserved || (notReady.length > 0 && !anyFailed && !input.error)
      ? {
          type: 'Progressing',
          status: 'True',
          reason: generationObserved ? 'RollingOut' : 'Reconciling',
          message: notReady.length
            ? `waiting for ${notReady.map((c) => c.type).join(', ')}`
            : 'applying the latest spec',
        }
      : { type: 'Progressing', status: 'False', reason: 'Stable', message: 'nothing in progress' };

  const observedGeneration = input.succeeded ? app.metadata.generation : app.status?.observedGeneration;
  const status: ScalableAppStatus = {
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
    conditions: mergeConditions(
      app.status?.conditions,
      [ready, progressing, degraded, ...components],
      app.metadata.generation,
      input.now,
    ),
  };

  const web = byComponent('web');
  if (web.length) {
    const c = counts(web);
    const selector = Object.entries(selectorLabels(app, 'web'))
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    status.web = {
      replicas: c.replicas,
      readyReplicas: c.ready,
      desiredReplicas: c.desired,
      selector,
      ready: `${c.ready}/${c.desired}`,
    };
  }
  const cache = byComponent('cache');
  if (cache.length) {
    const c = counts(cache);
    status.cache = {
      readyReplicas: c.ready,
      ready: `${c.ready}/${c.desired}`,
      ...(input.endpoints.cache ? { endpoint: input.endpoints.cache } : {}),
    };
  }
  const db = byComponent('database');
  if (db.length) status.database = databaseStatus(app, db, input);
  status.exposure = { mechanism: input.exposure.mechanism };
  if (input.bindingSecretName) status.bindingSecretName = input.bindingSecretName;
  if (input.exposure.url) status.url = input.exposure.url;
  return status;
}

function databaseStatus(
  app: ScalableApp,
  db: { obj: K8sObject; state: WorkloadState }[],
  input: StatusInput,
): NonNullable<ScalableAppStatus['database']> {
  const role = (w: { obj: K8sObject }) => w.obj.metadata.labels?.[ROLE_LABEL];
  const shard = (w: { obj: K8sObject }) => w.obj.metadata.labels?.[SHARD_LABEL] ?? 'main';
  const main = db.filter((w) => shard(w) === 'main');
  const primary = main.filter((w) => role(w) === 'primary');
  const replicas = counts(main.filter((w) => role(w) === 'replica'));
  const all = counts(db);
  const shardIndexes = [...new Set(db.map(shard).filter((s) => s !== 'main'))]
    .map(Number)
    .sort((a, b) => a - b);
  return {
    engine: app.spec.database?.engine,
    ready: `${all.ready}/${all.desired}`,
    primary: {
      ready: primary.length > 0 && primary.every((w) => w.state.ready),
      ...(input.endpoints.primary ? { endpoint: input.endpoints.primary } : {}),
    },
    replicas: {
      replicas: replicas.desired,
      readyReplicas: replicas.ready,
      ...(input.endpoints.replicas ? { endpoint: input.endpoints.replicas } : {}),
    },
    ...(shardIndexes.length
      ? {
          shards: shardIndexes.map((index) => {
            const ws = db.filter((w) => shard(w) === String(index));
            const ep = input.endpoints.shards.find((s) => s.index === index);
            return {
              index,
              ready: ws.every((w) => w.state.ready),
              ...(ep ? { writeEndpoint: ep.write, readEndpoint: ep.read } : {}),
            };
          }),
        }
      : {}),
  };
}

function exposureCondition(input: StatusInput): ConditionInput {
  const front = input.desired.filter(
    (o) => o.kind === 'Service' || o.kind === 'Ingress' || o.kind === 'HTTPRoute',
  );
  const frontDoor = front.filter(
    (o) => o.kind !== 'Service' || ['web', 'exposure'].includes(componentOf(o) ?? ''),
  );
  const missing = frontDoor.filter((o) => !input.live(o));
  const lb = frontDoor.find(
    (o) => o.kind === 'Service' && (o.spec as { type?: string } | undefined)?.type === 'LoadBalancer',
  );
  const lbLive = lb
    ? (input.live(lb) as { status?: { loadBalancer?: { ingress?: unknown[] } } } | undefined)
    : undefined;
  const warnings = input.exposure.warnings.length ? ` Warning: ${input.exposure.warnings.join(' ')}` : '';
  if (missing.length) {
    return {
      type: 'ExposureReady',
      status: 'False',
      reason: 'Creating',
      message: `waiting for ${missing.map((o) => `${o.kind} ${o.metadata.name}`).join(', ')}`,
    };
  }
  if (lb && !lbLive?.status?.loadBalancer?.ingress?.length) {
    return {
      type: 'ExposureReady',
      status: 'False',
      reason: 'WaitingForLoadBalancer',
      message: `Service ${lb.metadata.name} has no load balancer address yet.${warnings}`,
    };
  }
  return {
    type: 'ExposureReady',
    status: 'True',
    reason: 'Exposed',
    message: `${input.exposure.mechanism}.${warnings}`,
  };
}

/** Keys of desired objects, to find live ones in the informer caches. */
export const desiredKeys = (desired: readonly K8sObject[]) => new Set(desired.map(objectKey));
