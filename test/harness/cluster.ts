// Helpers for integration tests: where the cluster is, kubectl, API clients and per-test namespaces.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The environment `hack/cluster.sh env` exports (KUBECONFIG and PATH with the cluster binaries). */
export function clusterEnv(): Record<string, string> {
  mkdirSync(join(REPO_ROOT, '.local'), { recursive: true });
  const script = `eval "$(bash '${join(REPO_ROOT, 'hack/cluster.sh')}' env)" && env -0`;
  const out = execFileSync('bash', ['-c', script], { encoding: 'utf8' });
  const env: Record<string, string> = {};
  for (const entry of out.split('\0')) {
    const i = entry.indexOf('=');
    if (i > 0 && /^(KUBECONFIG|PATH|SAPP_[A-Z_]+)$/.test(entry.slice(0, i)))
      env[entry.slice(0, i)] = entry.slice(i + 1);
  }
  return env;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl against the test cluster; throws on failure unless `allowFail`. */
export function kubectl(args: string[], opts: { input?: string; allowFail?: boolean } = {}): KubectlResult {
  try {
    const stdout = execFileSync('kubectl', args, {
      encoding: 'utf8',
      input: opts.input,
      env: process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return { code: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string };
    const result = { code: e.status ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    if (opts.allowFail) return result;
    throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}`, { cause: err });
  }
}

let counter = 0;
/** Creates a fresh namespace for one test file; returns its name. */
export function createNamespace(prefix: string): string {
  const name = `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`.slice(0, 63);
  kubectl(['create', 'namespace', name]);
  return name;
}

export function deleteNamespace(name: string): void {
  kubectl(['delete', 'namespace', name, '--wait=false', '--ignore-not-found'], { allowFail: true });
}
