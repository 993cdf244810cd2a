// Global setup of the e2e project: find a cluster with real networking, and install the CRDs.
//   - SAPP_TEST_KUBECONFIG: that cluster (kind: e2e/kind/run.sh sets it).
//   - otherwise the local real node (hack/node.sh): its `env` command exports KUBECONFIG and the SAPP_E2E_*
//     variables (Service source addresses, the operator image it built).
// A cluster whose nodes are all kwok fakes has no networking: the suite fails right here with a message, it does
// not pretend. Self-contained on purpose (jest loads global setup files outside its module mapping).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const NODE_SH = join(ROOT, 'hack/node.sh');

function importEnv(script: string): void {
  const out = execFileSync('bash', ['-c', `eval "$(${script})" && env -0`], { encoding: 'utf8' });
  for (const entry of out.split('\0')) {
    const i = entry.indexOf('=');
    if (i > 0 && /^(KUBECONFIG|PATH|SAPP_[A-Z0-9_]+)$/.test(entry.slice(0, i)))
      process.env[entry.slice(0, i)] = entry.slice(i + 1);
  }
}

interface Node {
  metadata: { name: string; annotations?: Record<string, string> };
  status?: { conditions?: { type: string; status: string }[] };
}

export default async function globalSetup(): Promise<void> {
  if (process.env.SAPP_TEST_KUBECONFIG) {
    process.env.KUBECONFIG = process.env.SAPP_TEST_KUBECONFIG;
    process.env.SAPP_E2E_PROFILE ??= 'kind';
  } else if (existsSync(NODE_SH)) {
    let up = true;
    try {
      execFileSync('bash', [NODE_SH, 'status'], { stdio: 'ignore' });
    } catch {
      up = false;
    }
    if (!up) {
      throw new Error(
        'e2e: no cluster with real networking. Start the local real node (`make node-up`, i.e. `hack/node.sh up`) ' +
          'or point SAPP_TEST_KUBECONFIG at one (kind: `make e2e-kind`).',
      );
    }
    importEnv(`bash '${NODE_SH}' env`);
    process.env.SAPP_E2E_PROFILE ??= 'local';
  } else {
    throw new Error('e2e: set SAPP_TEST_KUBECONFIG to a cluster with real networking');
  }
  // PATH from an `env` script may carry a literal "${PATH}" entry; keep real directories, add the system ones.
  process.env.PATH = [
    ...(process.env.PATH ?? '').split(':').filter((d) => d && !/["'$]/.test(d)),
    '/usr/local/sbin',
    '/usr/local/bin',
    '/usr/sbin',
    '/usr/bin',
    '/sbin',
    '/bin',
  ].join(':');

  const kubectl = (args: string[]) => execFileSync('kubectl', args, { encoding: 'utf8', env: process.env });
  const nodes = (JSON.parse(kubectl(['get', 'nodes', '-o', 'json'])) as { items: Node[] }).items;
  const real = nodes.filter(
    (n) =>
      n.metadata.annotations?.['kwok.x-k8s.io/node'] !== 'fake' &&
      n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  );
  if (real.length === 0) {
    throw new Error(
      `e2e: the cluster has no Ready node with real networking (nodes: ${nodes.map((n) => n.metadata.name).join(', ') || 'none'}); ` +
        'kwok nodes run no containers.',
    );
  }
  execFileSync('kubectl', ['apply', '--server-side', '--force-conflicts', '-f', join(ROOT, 'crds')], {
    stdio: 'inherit',
    env: process.env,
  });
  execFileSync(
    'kubectl',
    ['wait', '--for=condition=Established', '--timeout=60s', 'crd/scalableapps.scalable.dev'],
    { stdio: 'inherit', env: process.env },
  );
}
