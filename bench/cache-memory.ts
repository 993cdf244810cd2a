// Heap per cached object, with and without the informer cache transforms (src/controller/cache-transforms.ts):
// N objects shaped like what the API server returns for the operator's kinds (managedFields of several managers,
// kubectl's last-applied annotation, a full Pod spec and status) are parsed from JSON, as a watch delivers
// them, and kept in a map, as the informer's cache keeps them.
// Run: node --expose-gc --import tsx bench/cache-memory.ts [N] (prints bytes per object, for a Deployment and a
// data-tier Pod, as received and as cached)
import { execFileSync } from 'node:child_process';
import type { KubernetesObject } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../src/builders/meta.js';
import { cacheTransformFor } from '../src/controller/cache-transforms.js';
import { DATA_TIER_POD, OWNED_TYPES } from '../src/kube/resources.js';

const n = Number(process.argv[2] ?? 2000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const container = {
  name: 'web',
  image: 'ghcr.io/example/shop:1.4.2',
  ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
  env: [
    { name: 'DATABASE_HOST', value: 'shop-db' },
    {
      name: 'DATABASE_PASSWORD',
      valueFrom: { secretKeyRef: { name: 'shop-db-credentials', key: 'password' } },
    },
  ],
  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
  readinessProbe: { httpGet: { path: '/ready', port: 'http', scheme: 'HTTP' }, periodSeconds: 5 },
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File',
  imagePullPolicy: 'IfNotPresent',
};
const fieldsOf = (o: unknown): unknown =>
  o && typeof o === 'object' && !Array.isArray(o)
    ? Object.fromEntries(Object.entries(o).map(([k, v]) => [`f:${k}`, fieldsOf(v)]))
    : {};

function deployment(i: number): KubernetesObject {
  const spec = {
    replicas: 2,
    selector: { matchLabels: { app: `app-${i}` } },
    template: { spec: { containers: [container] } },
  };
  const metadata = { name: `app-${i}-web`, labels: { 'app.kubernetes.io/instance': `app-${i}` } };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      ...metadata,
      namespace: 'bench',
      uid: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
      resourceVersion: String(1000 + i),
      generation: 1,
      creationTimestamp: '2026-12-01T00:00:00Z',
      annotations: {
        'deployment.kubernetes.io/revision': '1',
        'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ metadata, spec }),
      },
      ownerReferences: [
        {
          apiVersion: 'scalable.dev/v1alpha1',
          kind: 'ScalableApp',
          name: `app-${i}`,
          uid: `a-${i}`,
          controller: true,
        },
      ],
      managedFields: [
        {
          manager: FIELD_MANAGER,
          operation: 'Apply',
          apiVersion: 'apps/v1',
          time: '2026-12-01T00:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: fieldsOf({ metadata, spec }),
        },
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          apiVersion: 'apps/v1',
          subresource: 'status',
          time: '2026-12-01T00:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:status': {
              'f:availableReplicas': {},
              'f:conditions': {
                '.': {},
                'k:{"type":"Available"}': { '.': {}, 'f:status': {}, 'f:type': {} },
              },
              'f:readyReplicas': {},
              'f:replicas': {},
            },
          },
        },
        {
          manager: 'kubectl-edit',
          operation: 'Update',
          apiVersion: 'apps/v1',
          time: '2026-12-01T00:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:metadata': { 'f:annotations': { 'f:note': {} } } },
        },
      ],
    },
    spec,
    status: {
      replicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
      conditions: [
        {
          type: 'Available',
          status: 'True',
          reason: 'MinimumReplicasAvailable',
          lastTransitionTime: '2026-12-01T00:00:00Z',
        },
      ],
    },
  } as unknown as KubernetesObject;
}

function pod(i: number): KubernetesObject {
  const spec = {
    containers: [container],
    nodeName: 'kwok-node-1',
    restartPolicy: 'Always',
    serviceAccountName: 'default',
    volumes: [{ name: 'data', persistentVolumeClaim: { claimName: `data-app-${i}-db-0` } }],
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `app-${i}-db-0`,
      namespace: 'bench',
      uid: `p-${i}`,
      resourceVersion: String(5000 + i),
      generateName: `app-${i}-db-`,
      labels: {
        'app.kubernetes.io/instance': `app-${i}`,
        'app.kubernetes.io/component': 'database',
        'statefulset.kubernetes.io/pod-name': `app-${i}-db-0`,
      },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'StatefulSet', name: `app-${i}-db`, uid: `s-${i}`, controller: true },
      ],
      managedFields: [
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          apiVersion: 'v1',
          time: '2026-12-01T00:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: fieldsOf({ metadata: { labels: {} }, spec }),
        },
        {
          manager: 'kwok',
          operation: 'Update',
          apiVersion: 'v1',
          subresource: 'status',
          time: '2026-12-01T00:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:status': { 'f:conditions': {}, 'f:podIP': {}, 'f:containerStatuses': {} } },
        },
      ],
    },
    spec,
    status: {
      phase: 'Running',
      podIP: `10.0.${i >> 8}.${i & 255}`,
      hostIP: '192.168.0.1',
      startTime: '2026-12-01T00:00:00Z',
      conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({
        type,
        status: 'True',
        lastTransitionTime: '2026-12-01T00:00:00Z',
      })),
      containerStatuses: [
        {
          name: 'web',
          ready: true,
          started: true,
          restartCount: 0,
          image: container.image,
          imageID: `${container.image}@sha256:abc`,
          containerID: `containerd://${i}`,
          state: { running: { startedAt: '2026-12-01T00:00:00Z' } },
        },
      ],
    },
  } as unknown as KubernetesObject;
}

function heapPerObject(
  make: (i: number) => KubernetesObject,
  transform?: (o: KubernetesObject) => KubernetesObject,
) {
  const wire = Array.from({ length: n }, (_, i) => JSON.stringify(make(i)));
  gc!();
  gc!();
  const before = process.memoryUsage().heapUsed;
  const cache = new Map<string, KubernetesObject>();
  for (const json of wire) {
    const o = JSON.parse(json) as KubernetesObject;
    cache.set(o.metadata!.name!, transform ? transform(o) : o);
  }
  gc!();
  gc!();
  const bytes = (process.memoryUsage().heapUsed - before) / n;
  if (cache.size !== wire.length) throw new Error('lost objects'); // also keeps `wire` alive until here
  return Math.round(bytes);
}

// One measurement per process (argv: kind, raw|cached), so the garbage of one does not count in another.
const DEPLOYMENT = OWNED_TYPES.find((t) => t.kind === 'Deployment')!;
const kinds = { Deployment: [deployment, DEPLOYMENT], Pod: [pod, DATA_TIER_POD] } as const;
const [, , , only, mode] = process.argv;
if (only) {
  const [make, type] = kinds[only as keyof typeof kinds];
  console.log(heapPerObject(make, mode === 'cached' ? cacheTransformFor(type) : undefined));
} else {
  for (const kind of Object.keys(kinds)) {
    const run = (m: string) =>
      Number(
        execFileSync(process.execPath, [...process.execArgv, process.argv[1]!, String(n), kind, m], {
          encoding: 'utf8',
        }).trim(),
      );
    const full = run('raw');
    const cached = run('cached');
    console.log(
      `${kind}: ${full} bytes per object as received, ${cached} bytes cached (${Math.round((100 * cached) / full)}%), n=${n}`,
    );
  }
}
