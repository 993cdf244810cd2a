// How the e2e suite runs the operator (SAPP_E2E_OPERATOR):
//   chart      `helm install` charts/scalable-app-operator into the test namespace, watching only it, with the
//              image SAPP_E2E_OPERATOR_IMAGE (repository:tag) that the cluster already has (kind: `kind load`;
//              the local node: hack/node.sh imported it). The real thing: the operator as a pod, talking to the
//              API server through the `kubernetes` Service. Default when SAPP_E2E_OPERATOR_IMAGE is set.
//   installed  an operator watching every namespace is already running (e2e/kind/run.sh installed the chart).
//   inprocess  startOperator() inside the jest process (test/harness/operator.ts), for clusters without an
//              operator image. Default otherwise.
//   process    `scalable-app-operator start` as a child process of the test (tsx src/cli.ts).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, kubectl } from '../../test/harness/cluster.js';
import { startInProcess, startProcess } from '../../test/harness/operator.js';
import { eventually } from '../../test/harness/wait.js';

export type OperatorMode = 'chart' | 'installed' | 'inprocess' | 'process';

export function operatorMode(): OperatorMode {
  const m = process.env.SAPP_E2E_OPERATOR ?? (process.env.SAPP_E2E_OPERATOR_IMAGE ? 'chart' : 'inprocess');
  if (!['chart', 'installed', 'inprocess', 'process'].includes(m))
    throw new Error(`SAPP_E2E_OPERATOR=${m}: use chart, installed, inprocess or process`);
  return m as OperatorMode;
}

export interface RunningOperator {
  mode: OperatorMode;
  describe: string;
  stop(): Promise<void>;
  logs(): string;
}

function helmBin(): string {
  const r = spawnSync('bash', [join(REPO_ROOT, 'hack/helm.sh'), '--path'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot find or build helm: ${r.stderr}`);
  return r.stdout.trim();
}

function helm(args: string[]): string {
  const r = spawnSync(helmBin(), args, { encoding: 'utf8', env: process.env, maxBuffer: 32 << 20 });
  if (r.status !== 0) throw new Error(`helm ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

export async function startOperatorFor(namespace: string): Promise<RunningOperator> {
  const mode = operatorMode();
  switch (mode) {
    case 'installed':
      return { mode, describe: 'installed in the cluster', stop: async () => {}, logs: () => '' };
    case 'inprocess': {
      const op = await startInProcess(namespace);
      return { mode, describe: 'in-process', stop: () => op.stop(), logs: () => '' };
    }
    case 'process': {
      const proc = await startProcess(namespace);
      return {
        mode,
        describe: `child process ${proc.child.pid}`,
        stop: () => proc.kill('SIGTERM'),
        logs: () => '',
      };
    }
    case 'chart': {
      const image = process.env.SAPP_E2E_OPERATOR_IMAGE;
      if (!image) throw new Error('SAPP_E2E_OPERATOR=chart needs SAPP_E2E_OPERATOR_IMAGE=<repository>:<tag>');
      const colon = image.lastIndexOf(':');
      const release = 'sapp-e2e';
      const started = Date.now();
      helm([
        'install',
        release,
        join(REPO_ROOT, 'charts/scalable-app-operator'),
        '--namespace',
        namespace,
        '--set',
        `image.repository=${image.slice(0, colon)}`,
        '--set',
        `image.tag=${image.slice(colon + 1)}`,
        '--set',
        `image.pullPolicy=${process.env.SAPP_E2E_OPERATOR_PULL_POLICY ?? 'Never'}`,
        '--set',
        `watchNamespace=${namespace}`,
        // One pod is enough here (and the local node has two cores for everything).
        '--set',
        'replicas=1',
        '--set',
        'podDisruptionBudget.enabled=false',
        // Only namespaced objects: nothing outlives the test namespace, even when a run is killed.
        '--set',
        'rbac.aggregateToDefaultRoles=false',
        '--set',
        'logLevel=info',
        '--wait',
        '--timeout',
        '5m',
      ]);
      await eventually(
        'the operator pod Ready',
        () =>
          kubectl([
            '-n',
            namespace,
            'get',
            'pods',
            '-l',
            'app.kubernetes.io/name=scalable-app-operator',
            '-o',
            'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}',
          ]).stdout.includes('True'),
        { timeoutMs: 120_000, intervalMs: 1000 },
      );
      const logs = () =>
        kubectl(
          ['-n', namespace, 'logs', '-l', 'app.kubernetes.io/name=scalable-app-operator', '--tail=200'],
          {
            allowFail: true,
          },
        ).stdout;
      return {
        mode,
        describe: `Helm release ${release} (image ${image}, Ready in ${((Date.now() - started) / 1000).toFixed(1)} s)`,
        stop: async () => {
          helm(['uninstall', release, '--namespace', namespace, '--wait', '--timeout', '2m']);
        },
        logs,
      };
    }
  }
}
