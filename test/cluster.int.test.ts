// The local cluster itself: workloads get Running, Ready pods on the kwok nodes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createNamespace, deleteNamespace, kubectl } from './harness/cluster.js';

let ns: string;
beforeAll(() => {
  ns = createNamespace('cluster');
});
afterAll(() => deleteNamespace(ns));

describe('local cluster', () => {
  it('has Ready nodes', () => {
    const nodes = JSON.parse(kubectl(['get', 'nodes', '-o', 'json']).stdout).items as {
      status: { conditions: { type: string; status: string }[] };
    }[];
    expect(nodes.length).toBeGreaterThan(0);
    for (const node of nodes)
      expect(node.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('runs a Deployment to Ready pods', () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'hello', namespace: ns },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'hello' } },
        template: {
          metadata: { labels: { app: 'hello' } },
          spec: { containers: [{ name: 'hello', image: 'registry.k8s.io/pause:3.10' }] },
        },
      },
    };
    kubectl(['apply', '-f', '-'], { input: JSON.stringify(deployment) });
    kubectl(['-n', ns, 'rollout', 'status', 'deployment/hello', '--timeout=60s']);
    const pods = JSON.parse(kubectl(['-n', ns, 'get', 'pods', '-l', 'app=hello', '-o', 'json']).stdout)
      .items as {
      status: { phase: string; conditions?: { type: string; status: string }[] };
    }[];
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod.status.phase).toBe('Running');
      expect(pod.status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    }
  }, 90_000);
});
