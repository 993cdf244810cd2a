// Runs the operator for integration tests: in-process (fast, inspectable) or as a child process (for kill -9,
// leader election and restarts), scoped to one namespace so test files do not see each other's apps.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Config, loadConfig } from '../../src/config.js';
import { loadKubeConfig } from '../../src/kube/client.js';
import { rootLogger } from '../../src/log.js';
import { type OperatorHandle, startOperator } from '../../src/operator.js';
import { REPO_ROOT } from './cluster.js';

/** Leader election with short timings (6 s lease, 4 s renew deadline, 1 s retry), so hand-overs fit in a test. */
export const FAST_LEADER_ELECTION = {
  LEADER_ELECT: 'true',
  LEASE_DURATION_SECONDS: '6',
  RENEW_DEADLINE_SECONDS: '4',
  RETRY_PERIOD_SECONDS: '1',
} as const;

export function testConfig(namespace: string, env: Record<string, string> = {}): Config {
  const r = loadConfig({
    WATCH_NAMESPACE: namespace,
    LEADER_ELECT: 'false',
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: process.env.SAPP_TEST_LOG_LEVEL ?? 'warn',
    API_QPS: '200',
    API_BURST: '400',
    ...env,
  });
  if (!r.ok) throw new Error(r.message);
  return r.config;
}

export async function startInProcess(
  namespace: string,
  env: Record<string, string> = {},
): Promise<OperatorHandle> {
  return startOperator({
    config: testConfig(namespace, env),
    kubeConfig: loadKubeConfig(process.env.KUBECONFIG),
    log: rootLogger(process.env.SAPP_TEST_LOG_LEVEL ?? 'warn'),
  });
}

/** Sums a counter's samples from a metrics registry text, keyed by one of its labels. */
function counterBy(metricsText: string, name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  const sample = new RegExp(`^${name}\\{([^}]*)\\} (\\d+)`);
  for (const line of metricsText.split('\n')) {
    const m = sample.exec(line);
    if (!m) continue;
    const key = new RegExp(`${label}="([^"]*)"`).exec(m[1]!)?.[1];
    if (key !== undefined) out[key] = (out[key] ?? 0) + Number(m[2]);
  }
  return out;
}

/** rest_client_requests_total by method (GET, POST, PUT, PATCH, DELETE; lists are GETs), every status code. */
export const requestsByMethod = (metricsText: string) =>
  counterBy(metricsText, 'rest_client_requests_total', 'method');

/** controller_runtime_reconcile_total by result (success, error, requeue_after, ...). */
export const reconcilesByResult = (metricsText: string) =>
  counterBy(metricsText, 'controller_runtime_reconcile_total', 'result');

/** Sum of rest_client_requests_total for the write methods, from a metrics registry text. */
export function writeRequests(metricsText: string): number {
  const m = requestsByMethod(metricsText);
  return (m.POST ?? 0) + (m.PUT ?? 0) + (m.PATCH ?? 0) + (m.DELETE ?? 0);
}

export interface OperatorProcess {
  child: ChildProcess;
  port: number;
  logFile: string;
  metrics(): Promise<string>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

let procCount = 0;

/** The last lines of a log file, for failure messages. */
function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Waits for the operator's "operator starting" log line and returns the port it bound. The kernel picks the port
 * (HTTP_PORT=0), so two operators, or an operator and any other socket, can never collide on it.
 */
async function boundPort(child: ChildProcess, logFile: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `operator exited (${child.exitCode ?? child.signalCode}) before listening; log:\n${tail(logFile)}`,
      );
    }
    let text = '';
    try {
      text = readFileSync(logFile, 'utf8');
    } catch {
      // not created yet
    }
    for (const line of text.split('\n')) {
      if (!line.includes('"operator starting"')) continue;
      const port = (JSON.parse(line) as { port?: unknown }).port;
      if (typeof port === 'number' && port > 0) return port;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`operator did not listen within ${timeoutMs} ms; log:\n${tail(logFile)}`);
}

/** The preload that logs the child's requests and can SIGKILL it at its k-th write (see request-log.mjs). */
export const REQUEST_LOG_PRELOAD = join(REPO_ROOT, 'test/harness/request-log.mjs');

/**
 * Starts `scalable-app-operator start` as a child process; logs go to .local/logs. With SAPP_TEST_REQUEST_LOG,
 * SAPP_TEST_KILL_AT_WRITE or SAPP_TEST_KILL_PATHS in `env`, the request-log preload is loaded into it.
 */
export async function startProcess(
  namespace: string,
  env: Record<string, string> = {},
): Promise<OperatorProcess> {
  const preload = Object.keys(env).some((k) => k.startsWith('SAPP_TEST_'))
    ? [`--import=${REQUEST_LOG_PRELOAD}`]
    : [];
  const logs = join(REPO_ROOT, '.local/logs');
  mkdirSync(logs, { recursive: true });
  const logFile = join(logs, `operator-${namespace}-${process.pid}-${procCount++}.log`);
  const out = openSync(logFile, 'a');
  // One node process with tsx's loader (not the tsx command, which runs node as a second process).
  const args = ['--import=tsx', ...preload, join(REPO_ROOT, 'src/cli.ts'), 'start'];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      WATCH_NAMESPACE: namespace,
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      LEADER_ELECT: 'false',
      ...env,
    },
    stdio: ['ignore', out, out],
    // Its own process group, so that a kill reaches anything it started.
    detached: true,
  });
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  const onExit = () => killGroup('SIGKILL');
  process.once('exit', onExit);
  child.once('exit', () => process.off('exit', onExit));
  let port: number;
  try {
    port = await boundPort(child, logFile, 60_000);
  } catch (err) {
    killGroup('SIGKILL');
    throw err;
  }
  const proc: OperatorProcess = {
    child,
    port,
    logFile,
    metrics: async () => {
      try {
        return await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      } catch (err) {
        throw new Error(`GET /metrics on operator port ${port}: ${String(err)}; log:\n${tail(logFile)}`, {
          cause: err,
        });
      }
    },
    kill: (signal = 'SIGKILL') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        killGroup(signal);
      }),
  };
  return proc;
}
