// Automatic failover on real Redis servers: a primary and two replicas started from what buildCache returns
// (start.sh picks each one's role from whether "the client Service" answers), a client writing session keys
// without pause. The primary dies (SIGKILL) or its node goes NotReady; observe → decideRedisFailover →
// executeRedis does what the operator's monitor does. Redis replicates asynchronously: the test measures how
// many acknowledged writes a failover loses, and bounds it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { buildCache } from '../../src/builders/cache/index.js';
import { buildCredentialsSecret } from '../../src/builders/credentials.js';
import type { FailoverSettings } from '../../src/replication/decide.js';
import { executeRedis, observeRedisGroup, type RedisHooks } from '../../src/replication/redis.js';
import { withCache } from '../fixtures/scalable-app.js';
import { freePort, waitFor } from '../services/ports.js';
import { CachePod } from './cache-pod.js';
import { context } from './fixtures.js';
import { run } from './pod.js';
import {
  decideRedisWhenReady,
  type NamedCachePod,
  redisConfig,
  redisEndpoints,
  replicationInfo,
  SessionWriter,
  sessionKeys,
} from './redis-group.js';

const SETTINGS: FailoverSettings = {
  unreachableSeconds: 2,
  minSecondsBetweenFailovers: 0,
  maxLagSeconds: 10,
};

const ctx = context(withCache({ replicas: 2 }));
const objects = [...buildCredentialsSecret(ctx), ...buildCache(ctx)];

let pods: NamedCachePod[] = [];
/** The pod the client Service selects. */
let primary: NamedCachePod;
let writer: SessionWriter | undefined;
let cfg: ReturnType<typeof redisConfig>;
/** An address where nothing answers: the client Service while it selects no pod. */
let nowhere: { host: string; port: number };

const byName = (name: string) => pods.find((p) => p.name === name)!;
const service = (p: NamedCachePod) => ({ host: '127.0.0.1', port: p.pod.port });
const probe = (p: NamedCachePod) =>
  run('sh', [join(p.pod.dir, 'config', 'ping.sh'), 'ready'], {
    REDIS_PORT: String(p.pod.port),
    REDISCLI_AUTH: p.pod.password,
  });
/** Waits until `replica` follows `source` with its link up and holds every key `source` holds now. */
async function waitInSync(replica: NamedCachePod, source: NamedCachePod): Promise<void> {
  const want = await sessionKeys(source.pod);
  await waitFor(`${replica.name} to follow ${source.name} and hold its ${want.size} keys`, async () => {
    const info = await replicationInfo(replica.pod);
    if (info.master_port !== String(source.pod.port) || info.master_link_status !== 'up') return false;
    const have = await sessionKeys(replica.pod);
    return [...want].every((k) => have.has(k));
  });
}

beforeAll(async () => {
  pods = await Promise.all(
    [0, 1, 2].map(async (i) => ({ name: `shop-cache-${i}`, pod: await CachePod.create(objects) })),
  );
  primary = pods[0]!;
  cfg = redisConfig(primary.pod.password);
  nowhere = { host: '127.0.0.1', port: await freePort() };
}, 30_000);

afterAll(async () => {
  for (const p of pods) p.pod.resume();
  await writer?.stop();
  await Promise.all(pods.map((p) => p.pod.destroy()));
}, 30_000);

describe('start.sh picks the role at every start', () => {
  it('starts a primary when nothing answers at the client Service, and a replica of the server that answers there', async () => {
    await primary.pod.start(nowhere);
    expect(await replicationInfo(primary.pod)).toMatchObject({ role: 'master' });
    expect(primary.pod.log()).toContain('no primary answers at 127.0.0.1');
    for (const r of pods.slice(1)) {
      await r.pod.start(service(primary));
      expect(r.pod.log()).toContain(
        `the primary answers at 127.0.0.1:${primary.pod.port}: starting as its replica`,
      );
    }
    for (const r of pods.slice(1)) await waitInSync(r, primary);
    for (const p of pods) expect(await probe(p)).toMatchObject({ code: 0 });
    // The operator sees the same group.
    const observed = await observeRedisGroup(redisEndpoints(pods, primary), cfg);
    expect(observed.map((m) => [m.pod, m.isMaster, m.source, m.linkUp])).toEqual([
      ['shop-cache-0', true, undefined, undefined],
      ['shop-cache-1', false, 'shop-cache-0', true],
      ['shop-cache-2', false, 'shop-cache-0', true],
    ]);
    // The password is in no command line.
    const cmdlines = (await run('ps', ['-eo', 'args'], {})).stdout;
    expect(cmdlines).toContain('redis-server');
    expect(cmdlines).not.toContain(primary.pod.password);
  }, 60_000);
});

describe('failover of a Redis group', () => {
  const deleted: string[] = [];
  const hooks: RedisHooks = {
    deletePod: async (pod) => {
      deleted.push(pod);
    },
  };

  it('the primary killed under a stream of session writes: the most advanced replica is promoted, the other follows, writes resume, and only writes of the last second before the kill may be lost', async () => {
    writer = new SessionWriter(() => primary.pod, cfg.password);
    // Long enough that the writes of the last second before the kill are a minority.
    await writer.waitForWritingMs(3000);
    const old = primary;
    const members = redisEndpoints(pods, old);
    const killedAt = Date.now();
    await old.pod.kill();
    const ackedBeforeKill = writer.acks.filter((a) => a.at <= killedAt);
    const lastSecond = ackedBeforeKill.filter((a) => a.at > killedAt - 1000);

    const { decision, waits } = await decideRedisWhenReady(members, old.name, SETTINGS, cfg);
    const decidedAt = Date.now();
    expect(waits[0]).toMatch(/primary shop-cache-0 is unreachable for 0 s of the 2 s before failover/);
    expect(decision).toMatchObject({ action: 'failover', from: old.name, fence: 'delete-pod' });
    if (decision.action !== 'failover') throw new Error('unreachable');
    expect(decision.repoint).toHaveLength(1);
    // A replica whose primary is gone is not ready.
    expect((await probe(byName(decision.to))).code).toBe(1);

    const steps = await executeRedis(decision, members, cfg, hooks);
    expect(steps.map((s) => [s.step, s.pod, s.error])).toEqual([
      ['fence delete-pod', old.name, undefined],
      ['promote', decision.to, undefined],
      ['repoint', decision.repoint[0], undefined],
    ]);
    expect(deleted).toEqual([old.name]);
    primary = byName(decision.to);
    const promotedAt = Date.now();

    await writer.waitForMore(2000);
    await writer.stop();
    const onNewPrimary = await sessionKeys(primary.pod);
    const lost = writer.acks.filter((a) => !onNewPrimary.has(a.key));
    const gap = writer.longestPauseFromMs(killedAt);
    console.log(
      `kill -9 of the Redis primary: ${writer.acks.length} writes acknowledged (${ackedBeforeKill.length} before the kill, ` +
        `${lastSecond.length} in its last second), ${lost.length} lost; ${(gap / 1000).toFixed(2)} s without writes ` +
        `(detection ${((decidedAt - killedAt) / 1000).toFixed(2)} s with ${SETTINGS.unreachableSeconds} s to wait, ` +
        `executor ${promotedAt - decidedAt} ms: ${steps.map((s) => `${s.step} ${s.pod} ${s.ms} ms`).join(', ')})`,
    );
    // Asynchronous replication: what is lost was acknowledged in the last second before the kill, never before
    // (an empty or stale replica promoted would lose thousands).
    expect(lost.filter((a) => a.at <= killedAt - 1000)).toEqual([]);
    expect(lost.length).toBeLessThanOrEqual(lastSecond.length);
    // The bound covers more than a handful: thousands of writes older than a second survived.
    expect(ackedBeforeKill.length - lastSecond.length).toBeGreaterThan(1000);
    expect(lost.filter((a) => a.at > killedAt)).toEqual([]);
    expect(gap).toBeLessThan(SETTINGS.unreachableSeconds * 1000 + 3000);

    const other = byName(decision.repoint[0]!);
    await waitInSync(other, primary);
    expect(await replicationInfo(primary.pod)).toMatchObject({ role: 'master' });
    expect((await probe(other)).code).toBe(0);
    expect((await probe(primary)).code).toBe(0);
  }, 120_000);

  it('the old primary, started again on its volume while the client Service selects the new one, comes back as its replica', async () => {
    const old = pods[0]!;
    await old.pod.start(service(primary));
    await waitInSync(old, primary);
    const { decision } = await decideRedisWhenReady(
      redisEndpoints(pods, primary),
      primary.name,
      SETTINGS,
      cfg,
    );
    expect(decision).toEqual({ action: 'nothing' });
  }, 60_000);

  it('the old primary, started again while the client Service selects no pod, comes back as a primary: it is made a replica', async () => {
    const old = pods[0]!;
    await old.pod.kill();
    await old.pod.start(nowhere);
    expect(await replicationInfo(old.pod)).toMatchObject({ role: 'master' });
    const members = redisEndpoints(pods, primary);
    // A server still loading its AOF (slow on a busy machine) does not answer the operator in time: it is left
    // alone until a later pass sees it answer, as the monitor's passes every 2 s do.
    await waitFor(`${old.name} to answer the operator`, async () =>
      (await observeRedisGroup(members, cfg)).some((m) => m.pod === old.name && m.reachable),
    );
    const { decision } = await decideRedisWhenReady(members, primary.name, SETTINGS, cfg);
    expect(decision).toEqual({
      action: 'rejoin-as-replica',
      pod: old.name,
      primary: primary.name,
      reason: `${old.name} takes writes but ${primary.name} is the primary`,
    });
    // A wrong password: the step fails, and its error never carries the password.
    const wrong = { ...cfg, password: 'not-the-password-42' };
    const refused = await executeRedis(decision, members, wrong, { deletePod: async () => {} });
    expect(refused[0]!.error).toBeDefined();
    expect(refused[0]!.error).not.toContain(wrong.password);

    const steps = await executeRedis(decision, members, cfg, { deletePod: async () => {} });
    expect(steps.map((s) => [s.step, s.pod, s.error])).toEqual([['repoint', old.name, undefined]]);
    await waitInSync(old, primary);
    expect((await decideRedisWhenReady(members, primary.name, SETTINGS, cfg)).decision).toEqual({
      action: 'nothing',
    });
  }, 60_000);

  it("the primary's node NotReady while it still answers: its writes are paused, the replica catches up and is promoted, the old primary follows it; no acknowledged write is lost", async () => {
    writer = new SessionWriter(() => primary.pod, cfg.password);
    await writer.waitForMore(2000);
    const old = primary;
    const members = redisEndpoints(pods, old, { nodeNotReady: old.name });
    const startedAt = Date.now();
    const { decision } = await decideRedisWhenReady(members, old.name, SETTINGS, cfg);
    expect(decision).toMatchObject({ action: 'failover', from: old.name, fence: 'replicaof' });
    if (decision.action !== 'failover') throw new Error('unreachable');
    const steps = await executeRedis(decision, members, cfg, hooks);
    expect(steps.map((s) => [s.step, s.pod, s.error])).toEqual([
      ['fence pause writes', old.name, undefined],
      ['catch up', decision.to, undefined],
      ['promote', decision.to, undefined],
      ['demote', old.name, undefined],
      ['repoint', decision.repoint[0], undefined],
    ]);
    primary = byName(decision.to);
    await writer.waitForMore(1000);
    await writer.stop();
    const onNewPrimary = await sessionKeys(primary.pod);
    const lost = writer.acks.filter((a) => !onNewPrimary.has(a.key));
    console.log(
      `primary on a NotReady node: ${writer.acks.length} writes acknowledged, ${lost.length} lost; ` +
        `${(writer.longestPauseFromMs(startedAt) / 1000).toFixed(2)} s without writes ` +
        `(${steps.map((s) => `${s.step} ${s.pod} ${s.ms} ms`).join(', ')}); the writer saw: ${writer.errors.join(' | ')}`,
    );
    expect(lost).toEqual([]);
    for (const r of pods.filter((p) => p !== primary)) await waitInSync(r, primary);
    expect(await replicationInfo(old.pod)).toMatchObject({ role: 'slave', master_link_status: 'up' });
  }, 120_000);

  it('a primary that stops answering (SIGSTOP, a partition) is fenced by deleting its pod and a replica promoted; thawed, it is made a replica, and what a client still connected to it wrote in between is lost', async () => {
    const partitioned = primary;
    writer = new SessionWriter(() => primary.pod, cfg.password);
    // An app instance whose connection still reaches the old primary (an established connection outlives the
    // Service's move), writing other keys.
    const stale = new SessionWriter(() => partitioned.pod, cfg.password, 'stale');
    await writer.waitForWritingMs(2000);
    await stale.waitForMore(100);
    const members = redisEndpoints(pods, partitioned);
    const pausedAt = Date.now();
    partitioned.pod.pause();
    const { decision } = await decideRedisWhenReady(members, partitioned.name, SETTINGS, cfg);
    // The operator cannot reach it to pause its writes: only deleting its pod keeps it from taking more.
    expect(decision).toMatchObject({ action: 'failover', from: partitioned.name, fence: 'delete-pod' });
    if (decision.action !== 'failover') throw new Error('unreachable');
    const steps = await executeRedis(decision, members, cfg, hooks);
    expect(steps.map((s) => [s.step, s.pod, s.error])).toEqual([
      ['fence delete-pod', partitioned.name, undefined],
      ['promote', decision.to, undefined],
      ['repoint', decision.repoint[0], undefined],
    ]);
    primary = byName(decision.to);
    await writer.waitForMore(1000);

    // The pod's deletion is the operator's (next to come); here the frozen server answers again instead.
    const thawedAt = Date.now();
    partitioned.pod.resume();
    const next = await decideRedisWhenReady(redisEndpoints(pods, primary), primary.name, SETTINGS, cfg);
    expect(next.decision).toMatchObject({ action: 'rejoin-as-replica', pod: partitioned.name });
    const rejoin = await executeRedis(next.decision, redisEndpoints(pods, primary), cfg, hooks);
    expect(rejoin.map((s) => [s.step, s.error])).toEqual([['repoint', undefined]]);
    const rejoinedAt = Date.now();
    await waitInSync(partitioned, primary);
    await writer.waitForMore(500);
    await Promise.all([writer.stop(), stale.stop()]);

    const onNewPrimary = await sessionKeys(primary.pod, '*');
    const lost = writer.acks.filter((a) => !onNewPrimary.has(a.key));
    const staleLost = stale.acks.filter((a) => !onNewPrimary.has(a.key));
    console.log(
      `SIGSTOP of the Redis primary: ${writer.acks.length} writes acknowledged through the Service, ${lost.length} lost, ` +
        `${(writer.longestPauseFromMs(pausedAt) / 1000).toFixed(2)} s without writes; a client still connected to the ` +
        `frozen primary: ${stale.acks.length} acknowledged, ${staleLost.length} lost, all acknowledged in the ` +
        `${rejoinedAt - thawedAt} ms between the thaw and the rejoin (the monitor's interval bounds it)`,
    );
    expect(lost.filter((a) => a.at <= pausedAt - 1000)).toEqual([]);
    // Only what the thawed server took before the operator made it a replica is lost; nothing after.
    expect(staleLost.filter((a) => a.at <= pausedAt - 1000)).toEqual([]);
    expect(staleLost.filter((a) => a.at > pausedAt && a.at < thawedAt)).toEqual([]);
    expect(stale.acks.filter((a) => a.at > rejoinedAt + 100)).toEqual([]);
    expect(stale.errors.join(' | ')).toContain('READONLY');
    expect(await replicationInfo(partitioned.pod)).toMatchObject({ role: 'slave', master_link_status: 'up' });
  }, 120_000);
});
