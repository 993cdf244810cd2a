// Integration suite setup: use the cluster named by SAPP_TEST_KUBECONFIG (e.g. kind), or start the local
// upstream cluster (hack/cluster.sh), then install the CRDs from crds/ and the Gateway API CRDs (experimental
// channel, pinned in hack/gateway-api.sh), so HTTPRoutes are dry-run and watched like every other kind.
// Self-contained on purpose: jest loads global setup files outside its module mapping, so this file imports no
// local modules.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const cluster = (cmd: string, stdio: 'inherit' | 'pipe' = 'pipe') =>
  execFileSync('bash', [join(ROOT, 'hack/cluster.sh'), cmd], {
    encoding: 'utf8',
    stdio: ['ignore', stdio, 'inherit'],
  });

export default async function globalSetup(): Promise<void> {
  mkdirSync(join(ROOT, '.local'), { recursive: true });
  let startedHere = false;
  if (process.env.SAPP_TEST_KUBECONFIG) {
    process.env.KUBECONFIG = process.env.SAPP_TEST_KUBECONFIG;
  } else {
    let up = true;
    try {
      cluster('status');
    } catch {
      up = false;
    }
    if (!up) {
      cluster('up', 'inherit');
      startedHere = true;
    }
    // Let bash evaluate the exports (quoting, $PATH) and read back the resulting environment.
    const out = execFileSync(
      'bash',
      ['-c', `eval "$(bash '${join(ROOT, 'hack/cluster.sh')}' env)" && env -0`],
      {
        encoding: 'utf8',
      },
    );
    for (const entry of out.split('\0')) {
      const i = entry.indexOf('=');
      if (i > 0 && /^(KUBECONFIG|PATH|SAPP_[A-Z_]+)$/.test(entry.slice(0, i)))
        process.env[entry.slice(0, i)] = entry.slice(i + 1);
    }
  }
  writeFileSync(join(ROOT, '.local/test-started-cluster'), startedHere ? 'yes' : 'no');
  const kubectl = (args: string[]) => execFileSync('kubectl', args, { stdio: 'inherit', env: process.env });
  kubectl(['apply', '--server-side', '--force-conflicts', '-f', join(ROOT, 'crds')]);
  kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/scalableapps.scalable.dev']);
  execFileSync('bash', [join(ROOT, 'hack/gateway-api.sh'), 'install'], {
    stdio: 'inherit',
    env: process.env,
  });
}
