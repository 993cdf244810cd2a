// Loading example apps into a test namespace and reading their children.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { OWNED_TYPES } from '../../src/kube/resources.js';
import { REPO_ROOT, kubectl } from './cluster.js';
import { eventually } from './wait.js';

export type Obj = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
    generation?: number;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown> & {
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
  [k: string]: unknown;
};

export function example(file: string, namespace: string, name?: string): Obj {
  const doc = YAML.parse(readFileSync(join(REPO_ROOT, 'examples', file), 'utf8')) as Obj;
  doc.metadata.namespace = namespace;
  if (name) doc.metadata.name = name;
  return doc;
}

export const applyObj = (obj: unknown, extra: string[] = []) =>
  kubectl(['apply', '--server-side', '--field-manager=test-user', '--force-conflicts', ...extra, '-f', '-'], {
    input: JSON.stringify(obj),
  });

export const getObj = (kind: string, ns: string, name: string): Obj | undefined => {
  const r = kubectl(['-n', ns, 'get', kind, name, '-o', 'json', '--show-managed-fields'], {
    allowFail: true,
  });
  return r.code === 0 ? (JSON.parse(r.stdout) as Obj) : undefined;
};

/** The owned kinds as kubectl names them (`deployments.apps`, core kinds bare), from the operator's own list. */
export const OWNED_KINDS = OWNED_TYPES.map((t) =>
  t.apiVersion.includes('/') ? `${t.plural}.${t.apiVersion.split('/')[0]}` : t.plural,
);

/** Every object labelled as belonging to the app instance, across the owned kinds. */
export function children(ns: string, instance: string): Obj[] {
  const out = kubectl([
    '-n',
    ns,
    'get',
    OWNED_KINDS.join(','),
    '-l',
    `app.kubernetes.io/instance=${instance},app.kubernetes.io/managed-by=scalable-app-operator`,
    '-o',
    'json',
  ]).stdout;
  return (JSON.parse(out) as { items: Obj[] }).items;
}

export const childKey = (o: Obj) => `${o.kind}/${o.metadata.name}`;

/**
 * Plays the Ingress controller the local cluster lacks: once the Ingress exists, writes an address into its
 * status through the status subresource, as a controller admitting it does (ExposureReady waits for it).
 */
export async function admitIngress(ns: string, name: string, ip = '192.0.2.10'): Promise<void> {
  const status = JSON.stringify({ status: { loadBalancer: { ingress: [{ ip }] } } });
  await eventually(
    `Ingress ${name} admitted`,
    () =>
      kubectl(['-n', ns, 'patch', 'ingress', name, '--subresource=status', '--type=merge', '-p', status], {
        allowFail: true,
      }).code === 0,
    { timeoutMs: 60_000, intervalMs: 500 },
  );
}

export const condition = (app: Obj | undefined, type: string) =>
  app?.status?.conditions?.find((c) => c.type === type);

export interface KubeEvent {
  type: string;
  reason: string;
  message: string;
  involvedObject: { kind: string; name: string; uid: string };
  metadata: { resourceVersion: string };
}

/** The core/v1 Events in `ns` matching a field selector, oldest first (resource versions grow; timestamps
 *  have whole seconds). */
export function eventsOf(ns: string, fieldSelector: string): KubeEvent[] {
  const out = kubectl(['-n', ns, 'get', 'events', '--field-selector', fieldSelector, '-o', 'json']).stdout;
  return (JSON.parse(out) as { items: KubeEvent[] }).items.sort(
    (a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion),
  );
}
