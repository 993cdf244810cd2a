// The Helm chart in integration tests: the pinned helm, `helm template` as objects, and the chart's RBAC alone.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import YAML from 'yaml';
import type { Obj } from './apps.js';
import { REPO_ROOT, kubectl } from './cluster.js';

export const CHART = join(REPO_ROOT, 'charts/scalable-app-operator');
export const RBAC_KINDS = new Set([
  'ServiceAccount',
  'Role',
  'ClusterRole',
  'RoleBinding',
  'ClusterRoleBinding',
]);

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export const run = (cmd: string, args: string[], input?: string): Run => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, env: process.env, maxBuffer: 64 << 20 });
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error?.message ?? '') };
};

/** The path of the pinned helm (hack/helm.sh builds it once into the binary cache). */
export function helmBinary(): string {
  const r = run('bash', [join(REPO_ROOT, 'hack/helm.sh'), '--path']);
  if (r.code !== 0) throw new Error(`cannot build or find helm: ${r.stderr}`);
  return r.stdout.trim();
}

/** `helm template` → objects; throws with helm's message when rendering fails. */
export function helmTemplate(helm: string, release: string, namespace: string, args: string[] = []): Obj[] {
  const r = run(helm, ['template', release, CHART, '--namespace', namespace, ...args]);
  if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return YAML.parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => !!o);
}

/**
 * Applies only the chart's ServiceAccount and RBAC; cluster-scoped ones are added to `clusterObjects` for the
 * caller to delete. Returns them, the ServiceAccount's user name and the Lease the chart names.
 */
export function installChartRbac(
  helm: string,
  release: string,
  releaseNs: string,
  args: string[],
  clusterObjects: string[],
) {
  const objs = helmTemplate(helm, release, releaseNs, args).filter((o) => RBAC_KINDS.has(o.kind));
  for (const o of objs)
    if (!o.metadata.namespace) clusterObjects.push(`${o.kind.toLowerCase()}/${o.metadata.name}`);
  kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objs }) });
  const sa = objs.find((o) => o.kind === 'ServiceAccount')!;
  const leaseRole = objs.find((o) => o.kind === 'Role' && o.metadata.name.endsWith('-leader-election'))!;
  const lease = (leaseRole.rules as { resourceNames?: string[] }[]).find((r) => r.resourceNames)!
    .resourceNames![0]!;
  return { objs, user: `system:serviceaccount:${releaseNs}:${sa.metadata.name}`, lease };
}
