// Kubernetes Events for notable transitions (created, scaled, degraded, invalid spec). Best effort: an event
// that cannot be written is logged, never fails a reconcile.
import type { Logger } from 'pino';
import { API_VERSION, KIND } from '../api/v1alpha1/index.js';
import type { KubeClient } from '../kube/client.js';
import { EVENT, collectionPath } from '../kube/resources.js';

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
      this.log.warn({ err: String(err), reason }, 'could not record event');
    }
  }
}
