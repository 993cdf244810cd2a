// Integration suite setup: use the cluster named by SAPP_TEST_KUBECONFIG (e.g. kind), or start the local
// upstream cluster (hack/cluster.sh), then install the CRDs from crds/.
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, clusterEnv, kubectl } from './cluster.js';

export default async function globalSetup(): Promise<void> {
  const external = process.env.SAPP_TEST_KUBECONFIG;
  let startedHere = false;
  if (external) {
    process.env.KUBECONFIG = external;
  } else {
    const wasUp = isUp();
    if (!wasUp) {
      execFileSync('bash', [join(REPO_ROOT, 'hack/cluster.sh'), 'up'], { stdio: 'inherit' });
      startedHere = true;
    }
    Object.assign(process.env, clusterEnv());
  }
  writeFileSync(join(REPO_ROOT, '.local/test-started-cluster'), startedHere ? 'yes' : 'no');
  kubectl(['apply', '--server-side', '--force-conflicts', '-f', join(REPO_ROOT, 'crds')]);
  kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/scalableapps.scalable.dev']);
}

function isUp(): boolean {
  if (!existsSync(join(REPO_ROOT, 'hack/cluster.sh'))) throw new Error('hack/cluster.sh is missing');
  try {
    execFileSync('bash', [join(REPO_ROOT, 'hack/cluster.sh'), 'status'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
