// The generated redis.conf, entrypoint and probe script on a real redis-server.
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { bindingValues } from '../../src/builders/binding.js';
import { buildCache } from '../../src/builders/cache/index.js';
import { RDB_SAVE_POINTS } from '../../src/builders/cache/config.js';
import type { K8sObject } from '../../src/builders/types.js';
import { withCache } from '../fixtures/scalable-app.js';
import { type RedisServer, startRedis } from '../services/redis.js';
import { CREDENTIALS, context } from './fixtures.js';
import { run } from './pod.js';

const started: RedisServer[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(started.map((s) => s.destroy()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The ConfigMap data buildCache generates for a cache spec. */
function configData(cache: Record<string, unknown>): Record<string, string> {
  const objects: K8sObject[] = buildCache(context(withCache(cache)));
  return objects.find((o) => o.kind === 'ConfigMap')!.data as Record<string, string>;
}

async function redisWith(cache: Record<string, unknown>) {
  const server = await startRedis({ config: configData(cache)['redis.conf']! });
  started.push(server);
  return server;
}

async function client(server: RedisServer) {
  const c = createClient({ url: server.url, socket: { reconnectStrategy: false } });
  c.on('error', () => {});
  await c.connect();
  return c;
}

const configGet = async (server: RedisServer, ...names: string[]) => {
  const c = await client(server);
  try {
    return await c.configGet(names);
  } finally {
    await c.quit();
  }
};

describe('the generated redis.conf', () => {
  it.each([
    ['none', { appendonly: 'no', save: '' }],
    ['rdb', { appendonly: 'no', save: RDB_SAVE_POINTS.flat().join(' ') }],
    ['aof', { appendonly: 'yes', appendfsync: 'everysec', save: '' }],
  ])(
    'loads with persistence %s',
    async (persistence, expected) => {
      const server = await redisWith({ persistence, maxMemory: '64mb', evictionPolicy: 'allkeys-lfu' });
      const got = await configGet(
        server,
        'maxmemory',
        'maxmemory-policy',
        'appendonly',
        'appendfsync',
        'save',
      );
      expect(got).toMatchObject({
        maxmemory: String(64 * 1024 * 1024),
        'maxmemory-policy': 'allkeys-lfu',
        ...expected,
      });
      await server.destroy();
    },
    20_000,
  );

  it('evicts keys past maxmemory with allkeys-lru, and refuses writes with noeviction', async () => {
    const value = 'v'.repeat(1024);
    for (const [policy, evicts] of [
      ['allkeys-lru', true],
      ['noeviction', false],
    ] as const) {
      const server = await redisWith({ persistence: 'none', maxMemory: '2mb', evictionPolicy: policy });
      const c = await client(server);
      let refused = 0;
      for (let i = 0; i < 5000; i++) await c.set(`k${i}`, value).catch(() => refused++);
      const keys = await c.dbSize();
      await c.quit();
      await server.destroy();
      expect(keys).toBeLessThan(5000);
      expect(refused > 0).toBe(!evicts);
    }
  }, 30_000);
});

describe('the generated entrypoint', () => {
  const entrypoint = { script: configData({})['start.sh']!, password: CREDENTIALS.cachePassword };

  it("makes Redis require the password from REDIS_PASSWORD, which the binding's REDIS_URL carries", async () => {
    const server = await startRedis({ config: configData({})['redis.conf']!, entrypoint });
    started.push(server);
    // Without the password, the connection handshake itself is refused.
    const anonymous = createClient({
      url: `redis://127.0.0.1:${server.port}`,
      socket: { reconnectStrategy: false },
    });
    anonymous.on('error', () => {});
    await expect(anonymous.connect()).rejects.toThrow(/NOAUTH/);

    // The URL the app gets, pointed at this server: same password, same encoding.
    const bound = new URL(bindingValues(context(withCache())).REDIS_URL!);
    bound.hostname = '127.0.0.1';
    bound.port = String(server.port);
    const app = createClient({ url: bound.toString(), socket: { reconnectStrategy: false } });
    app.on('error', () => {});
    await app.connect();
    expect(await app.ping()).toBe('PONG');
    await app.set('k', 'v');
    expect(await app.get('k')).toBe('v');
    await app.quit();

    // The probes authenticate with REDISCLI_AUTH, as the container's env sets it; without it they fail.
    const dir = mkdtempSync(join(tmpdir(), 'sapp-ping-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'ping.sh'), configData({})['ping.sh']!);
    const probe = (env: Record<string, string>) =>
      run('sh', [join(dir, 'ping.sh'), 'ready'], { REDIS_PORT: String(server.port), ...env });
    expect(await probe({ REDISCLI_AUTH: entrypoint.password })).toMatchObject({ code: 0 });
    const refused = await probe({});
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('NOAUTH');
  }, 20_000);

  it('refuses to start Redis without a password', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sapp-start-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'start.sh'), entrypoint.script);
    const r = await run('sh', [join(dir, 'start.sh'), '/nonexistent.conf'], { REDIS_PASSWORD: '' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('REDIS_PASSWORD is empty');
  });
});

describe('the generated probe script', () => {
  const ping = (server: RedisServer, mode: string, env: Record<string, string> = {}) => {
    const dir = mkdtempSync(join(tmpdir(), 'sapp-ping-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'ping.sh'), configData({})['ping.sh']!);
    return run('sh', [join(dir, 'ping.sh'), mode], { REDIS_PORT: String(server.port), ...env });
  };

  it('passes ready and alive while Redis answers, fails both once it is gone', async () => {
    const server = await redisWith({});
    expect(await ping(server, 'ready')).toMatchObject({ code: 0 });
    expect(await ping(server, 'alive')).toMatchObject({ code: 0 });
    await server.stop();
    expect((await ping(server, 'ready')).code).toBe(1);
    expect((await ping(server, 'alive')).code).toBe(1);
  }, 20_000);

  it('counts a Redis that is still loading its data as alive but not ready', async () => {
    const server = await redisWith({});
    const bin = mkdtempSync(join(tmpdir(), 'sapp-bin-'));
    dirs.push(bin);
    writeFileSync(
      join(bin, 'redis-cli'),
      '#!/bin/sh\necho "LOADING Redis is loading the dataset in memory"\nexit 1\n',
    );
    chmodSync(join(bin, 'redis-cli'), 0o755);
    const loading = { PATH: `${bin}:${process.env.PATH}` };
    expect(await ping(server, 'alive', loading)).toMatchObject({ code: 0 });
    expect((await ping(server, 'ready', loading)).code).toBe(1);
  }, 20_000);
});

describe('durability with appendfsync everysec', () => {
  const now = () => performance.timeOrigin + performance.now();
  const hasStrace = spawnSync('strace', ['-V']).status === 0;

  /**
   * Traces the fsyncs of a Redis process: the start times (epoch ms) of those that completed before `until`.
   * Data written before an fsync started is on disk once it completed.
   */
  function traceFsyncs(pid: string, file: string) {
    const tracer = spawn(
      'strace',
      ['-f', '-ttt', '-T', '-e', 'trace=fsync,fdatasync', '-o', file, '-p', pid],
      {
        stdio: 'ignore',
      },
    );
    return {
      stop: () => tracer.kill('SIGKILL'),
      completedBefore: (until: number) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .map((line) => /^\d+\s+(\d+\.\d+) f(?:data)?sync\(\d+\)\s+=\s+0 <(\d+\.\d+)>/.exec(line))
          .filter((m): m is RegExpExecArray => m !== null)
          .map((m) => ({ started: Number(m[1]) * 1000, done: (Number(m[1]) + Number(m[2])) * 1000 }))
          .filter((f) => f.done < until)
          .map((f) => f.started),
    };
  }

  /**
   * Writes an increasing counter, each write acknowledged before the next, and SIGKILLs Redis under the stream.
   * `lostMs`: the span of acknowledged writes that did not survive. `unsyncedMs`: the span of acknowledged
   * writes no completed fsync covered at the kill, i.e. what a crash of the node would have lost.
   */
  async function killUnderWrites(persistence: string, traced = false) {
    const server = await redisWith({ persistence });
    const c = await client(server);
    const pid = /process_id:(\d+)/.exec(await c.info('server'))![1]!;
    const trace = traced ? traceFsyncs(pid, join(server.dir, 'fsyncs.trace')) : undefined;
    if (trace) await new Promise((r) => setTimeout(r, 300));
    const ackedAt: number[] = [];
    const writer = (async () => {
      for (let i = 0; ; i++) {
        try {
          await c.set('counter', String(i));
        } catch {
          return;
        }
        ackedAt[i] = now();
      }
    })();
    await new Promise((r) => setTimeout(r, 2500));
    const killedAt = now();
    await server.kill();
    await writer;
    c.destroy();
    const lastAck = ackedAt.at(-1)!;
    const fsyncs = trace?.completedBefore(killedAt) ?? [];
    trace?.stop();
    await server.start();
    const after = await client(server);
    const survived = await after.get('counter');
    await after.quit();
    return {
      acked: ackedAt.length,
      survived,
      lostMs: survived === null ? Infinity : lastAck - ackedAt[Number(survived)]!,
      fsyncs: fsyncs.length,
      unsyncedMs: fsyncs.length ? Math.max(0, lastAck - Math.max(...fsyncs)) : Infinity,
    };
  }

  it('loses at most about one second of acknowledged writes to a SIGKILL', async () => {
    const { acked, survived, lostMs } = await killUnderWrites('aof');
    console.log(
      `aof/everysec: ${acked} acknowledged writes, counter ${survived} survived the SIGKILL, lost window ${lostMs.toFixed(1)} ms`,
    );
    expect(acked).toBeGreaterThan(1000);
    expect(survived).not.toBeNull();
    expect(lostMs).toBeLessThanOrEqual(1500);
  }, 30_000);

  // A SIGKILL of the process loses nothing the kernel holds; a crash of the node loses what no fsync covered.
  (hasStrace ? it : it.skip)(
    'fsyncs the AOF about every second: a node crash would lose at most about one second',
    async () => {
      const { acked, fsyncs, unsyncedMs, lostMs } = await killUnderWrites('aof', true);
      console.log(
        `aof/everysec under strace: ${acked} acknowledged writes, ${fsyncs} fsyncs in 2.5 s, writes of the last ${unsyncedMs.toFixed(1)} ms not yet fsynced at the SIGKILL (lost: ${lostMs.toFixed(1)} ms)`,
      );
      expect(fsyncs).toBeGreaterThanOrEqual(2);
      expect(unsyncedMs).toBeLessThanOrEqual(1500);
    },
    30_000,
  );

  it('measures the loss: without persistence a SIGKILL loses everything', async () => {
    const { survived, lostMs } = await killUnderWrites('none');
    expect(survived).toBeNull();
    expect(lostMs).toBe(Infinity);
  }, 30_000);
});
