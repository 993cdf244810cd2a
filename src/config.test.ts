import { describe, expect, it } from '@jest/globals';
import { loadConfig } from './config.js';

describe('loadConfig', () => {
  it('has production defaults', () => {
    const r = loadConfig({});
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config).toMatchObject({
      watchNamespaces: undefined,
      concurrency: 4,
      resyncPeriodMs: 600_000,
      leaderElection: { enabled: true, namespace: 'default', leaseDurationMs: 15000, renewDeadlineMs: 10000 },
      http: { port: 8080 },
      api: { qps: 100, burst: 200 },
    });
  });

  it.each([
    [{ CONCURRENCY: '0' }, 'CONCURRENCY'],
    [{ CONCURRENCY: 'many' }, 'CONCURRENCY'],
    [{ LEADER_ELECT: 'maybe' }, 'LEADER_ELECT'],
    [{ WATCH_NAMESPACE: 'Not_A_Namespace' }, 'WATCH_NAMESPACE'],
    [{ WATCH_NAMESPACE: 'shop,Team_A' }, 'WATCH_NAMESPACE'],
    [{ WATCH_NAMESPACE: 'shop,,blog' }, 'WATCH_NAMESPACE'],
    [{ WATCH_NAMESPACE: `shop,${'a'.repeat(64)}` }, 'WATCH_NAMESPACE'],
    [{ RESYNC_PERIOD_SECONDS: '-1' }, 'RESYNC_PERIOD_SECONDS'],
    [{ RESYNC_PERIOD_SECONDS: 'hourly' }, 'RESYNC_PERIOD_SECONDS'],
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
      watchNamespaces: ['shop'],
      leaderElection: { enabled: false, namespace: 'ops', identity: expect.stringMatching(/^op-0_/) },
    });
  });

  it.each([
    ['shop,blog', ['shop', 'blog']],
    [' shop , blog ', ['shop', 'blog']],
    ['shop,blog,shop', ['shop', 'blog']],
    ['', undefined],
  ])('reads WATCH_NAMESPACE=%j as the namespaces %j (undefined: all)', (value, namespaces) => {
    const r = loadConfig({ WATCH_NAMESPACE: value });
    expect(r.ok && r.config.watchNamespaces).toEqual(namespaces);
  });

  it('names the offending namespace of a list', () => {
    const r = loadConfig({ WATCH_NAMESPACE: 'shop,Team_A' });
    expect(!r.ok && r.message).toContain("'Team_A'");
  });

  it('reads the resync period; 0 turns the periodic resync off', () => {
    const at = (v: string) => {
      const r = loadConfig({ RESYNC_PERIOD_SECONDS: v });
      return r.ok ? r.config.resyncPeriodMs : r.message;
    };
    expect(at('30')).toBe(30_000);
    expect(at('0')).toBe(0);
  });
});
