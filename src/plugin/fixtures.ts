// Pods and apps for the plugin's unit tests, built from small modifiers: pod('shop-db-primary-0', database(),
// role('primary'), ready()).
import type { V1Pod } from '@kubernetes/client-node';
import type { LiveApp } from './app.js';

type PodModifier = (pod: V1Pod) => void;

export function pod(name: string, ...modifiers: PodModifier[]): V1Pod {
  const p: V1Pod = {
    metadata: {
      name,
      creationTimestamp: new Date('2026-12-01T04:00:00Z'),
      labels: {
        'app.kubernetes.io/instance': 'shop',
        'app.kubernetes.io/managed-by': 'scalable-app-operator',
      },
    },
    spec: { containers: [{ name: 'c' }], nodeName: 'node-1' },
    status: { phase: 'Running', conditions: [], containerStatuses: [] },
  };
  for (const m of modifiers) m(p);
  return p;
}

const labelled =
  (key: string, value: string): PodModifier =>
  (p) => {
    p.metadata!.labels![key] = value;
  };

export const tier = (component: string) => labelled('app.kubernetes.io/component', component);
export const database =
  (shard = 'main') =>
  (p: V1Pod) => {
    tier('database')(p);
    labelled('scalable.dev/shard', shard)(p);
  };
export const role = (r: string) => labelled('scalable.dev/replication-role', r);
export const ready =
  (restarts = 0): PodModifier =>
  (p) => {
    p.status!.conditions = [{ type: 'Ready', status: 'True' }];
    p.status!.containerStatuses = [
      { name: 'c', ready: true, restartCount: restarts, image: 'x', imageID: 'x' },
    ];
  };
export const waiting =
  (reason: string): PodModifier =>
  (p) => {
    p.status!.phase = 'Pending';
    p.status!.containerStatuses = [
      { name: 'c', ready: false, restartCount: 3, image: 'x', imageID: 'x', state: { waiting: { reason } } },
    ];
  };
export const leaving: PodModifier = (p) => {
  p.metadata!.deletionTimestamp = new Date('2026-12-01T04:09:00Z');
};

export const app = (status: LiveApp['status'], spec: LiveApp['spec'] = {}): LiveApp => ({
  metadata: { name: 'shop', namespace: 'shop', generation: 2 },
  spec,
  status,
});
