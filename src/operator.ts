// The operator process: config, logger, API client, metrics and probes, leader election, the controller, and
// a graceful shutdown (stop taking work, finish in-flight reconciles, release the lease).
import type { KubeConfig } from '@kubernetes/client-node';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { Controller } from './controller/controller.js';
import { KubeClient } from './kube/client.js';
import { startHttpServer } from './runtime/http.js';
import { LeaderElector } from './runtime/leader.js';
import { Metrics } from './runtime/metrics.js';
import { TokenBucket } from './runtime/rate-limiter.js';

export interface OperatorHandle {
  controller: Controller;
  metrics: Metrics;
  client: KubeClient;
  httpPort: number;
  isLeader: () => boolean;
  /** Graceful stop; resolves when in-flight reconciles are done and the lease is released. */
  stop(): Promise<void>;
  /** Resolves when the operator stopped by itself (lost its lease). */
  stopped: Promise<void>;
}

export interface OperatorOptions {
  config: Config;
  kubeConfig: KubeConfig;
  log: Logger;
  metrics?: Metrics;
  generatePassword?: () => string;
}

export async function startOperator({
  config,
  kubeConfig,
  log,
  ...opts
}: OperatorOptions): Promise<OperatorHandle> {
  const metrics = opts.metrics ?? new Metrics({ defaultMetrics: true });
  const client = new KubeClient(kubeConfig, {
    metrics,
    writeLimiter: new TokenBucket(config.api.qps, config.api.burst),
  });
  const controller = new Controller({
    kubeConfig,
    client,
    log,
    metrics,
    concurrency: config.concurrency,
    namespaces: config.watchNamespaces,
    resyncPeriodMs: config.resyncPeriodMs,
    generatePassword: opts.generatePassword,
  });
  let leading = !config.leaderElection.enabled;
  let stopping = false;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));

  const http = await startHttpServer(
    metrics,
    { healthy: () => !stopping, ready: () => controller.synced },
    config.http.port,
    config.http.host,
  );
  log.info({ port: http.port, namespaces: config.watchNamespaces ?? '(all)' }, 'operator starting');

  let elector: LeaderElector | undefined;
  const stop = async () => {
    if (stopping) return stopped;
    stopping = true;
    log.info('shutting down: finishing in-flight reconciles');
    await controller.stop();
    await elector?.stop();
    await closeServer(http.server);
    await client.close();
    log.info('stopped');
    resolveStopped();
  };

  await controller.startInformers();
  if (config.leaderElection.enabled) {
    elector = new LeaderElector({
      client,
      log,
      metrics,
      ...config.leaderElection,
      onStartedLeading: () => {
        leading = true;
        controller.startWorkers();
      },
      // Like controller-runtime: a process that lost its lease stops; its supervisor restarts it.
      onStoppedLeading: () => {
        leading = false;
        if (!stopping) void stop();
      },
    });
    elector.start();
  } else {
    controller.startWorkers();
  }

  return { controller, metrics, client, httpPort: http.port, isLeader: () => leading, stop, stopped };
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
