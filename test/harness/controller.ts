// An operator in the test process against the local API server: the built controller with its own metrics and
// client, watching the test's namespace, with what a suite changes (simulated servers, intervals) on top.
import { pino } from 'pino';
import { Controller, type ControllerOptions } from '../../src/controller/controller.js';
import { KubeClient, loadKubeConfig } from '../../src/kube/client.js';
import { Metrics } from '../../src/runtime/metrics.js';

export interface TestController {
  controller: Controller;
  client: KubeClient;
  metrics: Metrics;
}

/** A controller for `namespace` (not started: call startInformers and startWorkers). */
export function testController(
  namespace: string,
  options: Partial<Omit<ControllerOptions, 'kubeConfig' | 'client' | 'log' | 'metrics'>> = {},
): TestController {
  const kubeConfig = loadKubeConfig(process.env.KUBECONFIG);
  const metrics = new Metrics();
  const client = new KubeClient(kubeConfig, { metrics });
  const controller = new Controller({
    kubeConfig,
    client,
    log: pino({ level: process.env.SAPP_TEST_LOG_LEVEL ?? 'silent' }),
    metrics,
    concurrency: 2,
    namespaces: [namespace],
    ...options,
  });
  return { controller, client, metrics };
}

/** testController, started: informers synced, workers running. */
export async function startTestController(
  namespace: string,
  options: Parameters<typeof testController>[1] = {},
): Promise<TestController> {
  const started = testController(namespace, options);
  await started.controller.startInformers();
  started.controller.startWorkers();
  return started;
}
