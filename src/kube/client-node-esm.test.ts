import { describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';

// @kubernetes/client-node 2.x is ESM only: this proves jest loads it natively.
describe('@kubernetes/client-node under jest', () => {
  it('loads as an ES module and builds a client from an in-memory kubeconfig', () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', skipTLSVerify: true }],
      users: [{ name: 'u', token: 'x' }],
      contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
      currentContext: 'ctx',
    });
    expect(kc.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
    expect(typeof kc.makeApiClient(k8s.CoreV1Api).listNamespace).toBe('function');
    expect(typeof k8s.makeInformer).toBe('function');
  });
});
