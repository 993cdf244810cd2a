// `scalable-app-operator start`: runs the operator until SIGTERM/SIGINT.
import { loadConfig } from './config.js';
import { loadKubeConfig } from './kube/client.js';
import { rootLogger } from './log.js';
import { startOperator } from './operator.js';

export async function main(): Promise<number> {
  const result = loadConfig();
  if (!result.ok) {
    process.stderr.write(`${result.message}\n`);
    return 2;
  }
  const { config } = result;
  const log = rootLogger(config.logLevel);
  let kubeConfig;
  try {
    kubeConfig = loadKubeConfig();
  } catch (err) {
    log.fatal({ err: String(err) }, 'cannot load kubeconfig (KUBECONFIG, ~/.kube/config or in-cluster)');
    return 2;
  }
  const op = await startOperator({ config, kubeConfig, log });
  let signals = 0;
  const onSignal = (sig: string) => {
    signals++;
    if (signals > 1) process.exit(1);
    log.info({ signal: sig }, 'signal received');
    const timer = setTimeout(() => {
      log.error('shutdown timed out');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    void op.stop();
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  await op.stopped;
  return op.isLeader() || signals > 0 ? 0 : 1;
}
