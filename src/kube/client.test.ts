// The client against a local HTTP server standing in for the API server: a request turned away with 429 (the
// server's priority and fairness) is sent again after Retry-After, and fails only once the retries are spent.
import { afterEach, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeClient } from './client.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** A server answering 429 (Retry-After: 0) `rejections` times, then 200; returns the client and the count. */
async function apiServer(rejections: number) {
  const seen = { requests: 0 };
  server = createServer((_req, res) => {
    seen.requests++;
    if (seen.requests <= rejections) {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' });
      res.end(JSON.stringify({ kind: 'Status', reason: 'TooManyRequests', message: 'too many requests' }));
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'ConfigMap', metadata: { name: 'x' } }));
    }
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'c',
        server: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: 'u', token: 'x' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return { client: new KubeClient(kc), seen };
}

describe('KubeClient and 429', () => {
  it('sends a request turned away with 429 again after Retry-After, until it is served', async () => {
    const { client, seen } = await apiServer(3);
    await expect(client.request('GET', '/api/v1/namespaces/a/configmaps/x')).resolves.toMatchObject({
      metadata: { name: 'x' },
    });
    expect(seen.requests).toBe(4);
    await client.close();
  });

  it('gives up after 10 retries with the server’s error', async () => {
    const { client, seen } = await apiServer(100);
    await expect(client.request('GET', '/api/v1/namespaces/a/configmaps/x')).rejects.toMatchObject({
      status: 429,
      reason: 'TooManyRequests',
    });
    expect(seen.requests).toBe(11);
    await client.close();
  });
});

describe('KubeClient metrics', () => {
  it('counts each request by verb (a dry run apart), resource and code', async () => {
    const { client } = await apiServer(0);
    const seen: string[] = [];
    const metrics = {
      restRequests: { inc: () => undefined },
      restLatency: { observe: () => undefined },
      apiRequests: {
        observe: (l: { verb: string; resource: string; code: string }) =>
          seen.push(`${l.verb} ${l.resource} ${l.code}`),
      },
    };
    const counted = new KubeClient(client.kubeConfig, { metrics });
    const path = '/apis/apps/v1/namespaces/a/deployments/web';
    await counted.request('PATCH', path, { query: { dryRun: 'All' }, body: {} });
    await counted.request('PATCH', path, { body: {} });
    await counted.request('GET', `${path}/status`);
    expect(seen).toEqual([
      'PATCH (dry run) deployments 200',
      'PATCH deployments 200',
      'GET deployments/status 200',
    ]);
    await Promise.all([client.close(), counted.close()]);
  });
});
