// Kubernetes Events for notable transitions (created, scaled, degraded, invalid spec). Best effort: an event
// that cannot be written is logged, never fails a reconcile.
import type { Logger } from 'pino';
import { API_VERSION, KIND, type ScalableAppStatus } from '../api/v1alpha1/index.js';
import type { KubeClient } from '../kube/client.js';
import { EVENT, collectionPath } from '../kube/resources.js';

export interface EventSpec {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/**
 * The events a status change is worth: Ready flipping (ReadyTrue, ReadyFalse), Degraded becoming True or
 * changing its reason while True (a Warning with the condition's reason, e.g. NotOwned), and the web tier's
 * desired pods changing (Scaled).
 */
export function transitionEvents(
  before: ScalableAppStatus | undefined,
  after: ScalableAppStatus,
): EventSpec[] {
  const was = (t: string) => before?.conditions?.find((c) => c.type === t);
  const is = (t: string) => after.conditions?.find((c) => c.type === t);
  const events: EventSpec[] = [];
  const ready = is('Ready');
  if (ready && was('Ready')?.status !== ready.status) {
    const type = ready.status === 'True' ? 'Normal' : 'Warning';
    events.push({ type, reason: `Ready${ready.status}`, message: ready.message });
  }
  const degraded = is('Degraded');
  const wasDegraded = was('Degraded');
  if (
    degraded?.status === 'True' &&
    (wasDegraded?.status !== 'True' || wasDegraded.reason !== degraded.reason)
  ) {
    events.push({ type: 'Warning', reason: degraded.reason, message: degraded.message });
  }
  const [from, to] = [before?.web?.desiredReplicas, after.web?.desiredReplicas];
  if (from !== undefined && to !== undefined && from !== to) {
    events.push({ type: 'Normal', reason: 'Scaled', message: `web scaled from ${from} to ${to} pods` });
  }
  return events;
}

export interface EventTarget {
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export class EventRecorder {
  constructor(
    private readonly client: KubeClient,
    private readonly log: Logger,
    private readonly component = 'scalable-app-operator',
  ) {}

  async record(
    target: EventTarget,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    /** Where a failure to record is logged: the pass's logger, with its reconcileID. */
    log: Logger = this.log,
  ): Promise<void> {
    const now = new Date().toISOString();
    const ns = target.metadata?.namespace ?? 'default';
    try {
      await this.client.request('POST', collectionPath(EVENT, ns), {
        body: {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { generateName: `${target.metadata?.name}.`, namespace: ns },
          involvedObject: {
            apiVersion: API_VERSION,
            kind: KIND,
            name: target.metadata?.name,
            namespace: ns,
            uid: target.metadata?.uid,
            resourceVersion: target.metadata?.resourceVersion,
          },
          reason,
          message: message.slice(0, 1024),
          type,
          source: { component: this.component },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
          reportingComponent: this.component,
          reportingInstance: this.component,
        },
      });
    } catch (err) {
      log.warn({ err: String(err), reason }, 'could not record event');
    }
  }
}
