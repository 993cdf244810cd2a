import { describe, expect, it } from '@jest/globals';
import { loadConfig } from './config.js';

describe('loadConfig', () => {
  it('has production defaults', () => {
    const r = loadConfig({});
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config).toMatchObject({
      watchNamespace: undefined,
      concurrency: 4,
      leaderElection: { enabled: true, namespace: 'default', leaseDurationMs: 15000, renewDeadlineMs: 10000 },
      http: { port: 8080 },
      api: { qps: 20, burst: 40 },
    });
  });

  it.each([
    [{ CONCURRENCY: '0' }, 'CONCURRENCY'],
    [{ CONCURRENCY: 'many' }, 'CONCURRENCY'],
    [{ LEADER_ELECT: 'maybe' }, 'LEADER_ELECT'],
    [{ WATCH_NAMESPACE: 'Not_A_Namespace' }, 'WATCH_NAMESPACE'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ HTTP_PORT: '70000' }, 'HTTP_PORT'],
  ])('rejects %j naming %s', (env, name) => {
    const r = loadConfig(env);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(`${name}:`);
  });

  it('checks the lease timings against each other', () => {
    const r = loadConfig({ LEASE_DURATION_SECONDS: '5', RENEW_DEADLINE_SECONDS: '10' });
    expect(r).toEqual({ ok: false, message: expect.stringContaining('LEASE_DURATION_SECONDS') });
  });

  it('reads the watch namespace and the lease namespace from the pod', () => {
    const r = loadConfig({
      WATCH_NAMESPACE: 'shop',
      POD_NAMESPACE: 'ops',
      POD_NAME: 'op-0',
      LEADER_ELECT: 'false',
    });
    expect(r.ok && r.config).toMatchObject({
      watchNamespace: 'shop',
      leaderElection: { enabled: false, namespace: 'ops', identity: expect.stringMatching(/^op-0_/) },
    });
  });
});
