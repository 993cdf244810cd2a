// What the operator's HTTP endpoints answer: /healthz is 200 while the process works, /readyz is 503 until every
// informer's cache has synced and 200 after, /metrics speaks the Prometheus text format with controller-runtime's
// names. The caches are held back by a gate between the operator and the API server that lets its connections
// through only when the test opens it, so "before sync" is a state the test controls, not a race.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import net from 'node:net';
import { Writable } from 'node:stream';
import { loadKubeConfig } from '../src/kube/client.js';
import { rootLogger } from '../src/log.js';
import { type OperatorHandle, startOperator } from '../src/operator.js';
import { createNamespace, deleteNamespace } from './harness/cluster.js';
import { testConfig } from './harness/operator.js';
import { eventually, sleep } from './harness/wait.js';

/** Accepts connections at once but forwards them to the API server only once opened. */
class Gate {
  private readonly held: net.Socket[] = [];
  private readonly sockets = new Set<net.Socket>();
  private opened = false;
  private readonly server = net.createServer((client) => {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    if (this.opened) this.forward(client);
    else this.held.push(client);
  });
  port = 0;

  constructor(private readonly target: URL) {}

  start(): Promise<void> {
    return new Promise((resolve) =>
      this.server.listen(0, '127.0.0.1', () => {
        this.port = (this.server.address() as net.AddressInfo).port;
        resolve();
      }),
    );
  }

  open(): void {
    this.opened = true;
    for (const client of this.held.splice(0)) this.forward(client);
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private forward(client: net.Socket): void {
    const upstream = net.connect(Number(this.target.port), this.target.hostname);
    this.sockets.add(upstream);
    upstream.on('close', () => this.sockets.delete(upstream));
    for (const s of [client, upstream]) s.on('error', () => (client.destroy(), upstream.destroy()));
    client.pipe(upstream).pipe(client);
  }
}

let ns: string;
let gate: Gate;
let op: OperatorHandle | undefined;
let starting: Promise<OperatorHandle>;
let port: number;
const logs: string[] = [];

const get = async (path: string) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
};

beforeAll(async () => {
  ns = createNamespace('health');
  const direct = loadKubeConfig(process.env.KUBECONFIG);
  gate = new Gate(new URL(direct.getCurrentCluster()!.server));
  await gate.start();
  const gated = new KubeConfig();
  gated.loadFromOptions({
    clusters: direct.clusters.map((c) => ({ ...c, server: `https://127.0.0.1:${gate.port}` })),
    users: direct.users,
    contexts: direct.contexts,
    currentContext: direct.currentContext,
  });
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  starting = startOperator({ config: testConfig(ns), kubeConfig: gated, log: rootLogger('info', sink) });
  starting.then((handle) => (op = handle)).catch(() => undefined);
  // The HTTP server listens before the informers start; its port is in the "operator starting" line.
  port = await eventually('the operator listens', () => {
    const line = logs.find((l) => l.includes('"operator starting"'));
    return line ? (JSON.parse(line) as { port: number }).port : undefined;
  });
}, 60_000);

afterAll(async () => {
  gate.open();
  await (op ?? (await starting.catch(() => undefined)))?.stop();
  await gate.close();
  deleteNamespace(ns);
}, 60_000);

describe('health endpoints', () => {
  it('before the caches sync: /healthz is 200, /readyz is 503', async () => {
    await sleep(500); // the informers' first lists are on their way, held at the gate
    expect(op).toBeUndefined(); // startOperator is still waiting for the caches
    expect(await get('/healthz')).toEqual({ status: 200, type: 'text/plain', body: 'ok\n' });
    expect(await get('/readyz')).toEqual({ status: 503, type: 'text/plain', body: 'not ready\n' });
  });

  it('serves Prometheus text with controller-runtime names, even before the caches sync', async () => {
    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    for (const name of [
      'controller_runtime_reconcile_total',
      'controller_runtime_reconcile_errors_total',
      'controller_runtime_reconcile_time_seconds',
      'workqueue_depth',
      'workqueue_adds_total',
      'rest_client_requests_total',
    ]) {
      expect(metrics.body).toMatch(new RegExp(`^# TYPE ${name} (counter|gauge|histogram)$`, 'm'));
    }
    expect(metrics.body).toMatch(/^process_resident_memory_bytes \d+/m);
  });

  it('after the caches sync: /readyz is 200', async () => {
    gate.open();
    const handle = await starting;
    expect(handle.controller.synced).toBe(true);
    expect(await get('/readyz')).toEqual({ status: 200, type: 'text/plain', body: 'ok\n' });
    expect(await get('/healthz')).toEqual({ status: 200, type: 'text/plain', body: 'ok\n' });
    // The lists it made are counted now.
    expect((await get('/metrics')).body).toMatch(
      /^rest_client_requests_total\{code="200",method="GET"\} [1-9]/m,
    );
  }, 30_000);

  it('answers 404 for any other path', async () => {
    expect((await get('/')).status).toBe(404);
    expect((await get('/livez')).status).toBe(404);
  });

  it('stops answering once stopped', async () => {
    await op!.stop();
    await expect(get('/healthz')).rejects.toThrow();
  });
});
