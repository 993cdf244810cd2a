// Automatic failover on real MariaDB servers: a primary and two replicas built from the operator's objects,
// semi-synchronous replication turned on by the executor, a client writing without pause. The primary dies
// (SIGKILL), or stops answering (SIGSTOP); observe → decideFailover → execute does what the reconciler will.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FailoverSettings } from '../../src/replication/decide.js';
import { withServer } from '../../src/replication/connect.js';
import { isSubset, parseMariaDB } from '../../src/replication/gtid.js';
import { execute, type Hooks, observeGroup } from '../../src/replication/executor.js';
import { readState } from '../../src/replication/sql.js';
import { freePort, waitFor } from '../services/ports.js';
import { withDatabase } from '../fixtures/scalable-app.js';
import { APP_DATABASE, appQuery } from './clients.js';
import {
  AcknowledgedWriter,
  decideWhenReady,
  endpoints,
  executorConfig,
  OPERATOR,
  rowValues,
} from './failover-group.js';
import { builtDatabase } from './fixtures.js';
import { settle } from './operator-pass.js';
import { groupPass } from '../../src/replication/group-pass.js';
import { DatabasePod, startAll } from './pod.js';

const db = builtDatabase(withDatabase({ engine: 'mariadb', databaseName: APP_DATABASE, replicas: 2 }));
const SETTINGS: FailoverSettings = {
  unreachableSeconds: 2,
  minSecondsBetweenFailovers: 0,
  maxLagSeconds: 10,
};
const TABLE = 'acks';

let pods: DatabasePod[] = [];
/** Every write a client saw succeed. */
const acknowledged = new Set<string>();
/** The pod the write Service selects. */
let primary: DatabasePod;

const operatorOn = <T>(pod: DatabasePod, fn: Parameters<typeof withServer<T>>[2]) =>
  withServer({ host: '127.0.0.1', port: pod.server!.port, ...OPERATOR }, executorConfig.timeouts, fn);
const stateOf = (pod: DatabasePod) => operatorOn(pod, (c) => readState(c, 'mariadb'));
const byName = (name: string) => pods.find((p) => p.name === name)!;

beforeAll(async () => {
  const primaryPort = await freePort();
  primary = new DatabasePod({ ...db, statefulSet: 'shop-db-primary', ordinal: 0, port: primaryPort });
  pods = [
    primary,
    new DatabasePod({ ...db, statefulSet: 'shop-db-replica', ordinal: 0, primaryPort }),
    new DatabasePod({ ...db, statefulSet: 'shop-db-replica', ordinal: 1, primaryPort }),
  ];
  await startAll(pods);
  // The operator opens the primary, with semi-synchronous replication on (the replicas acknowledge by config).
  await settle(pods, primary);
  await appQuery(
    primary,
    `CREATE TABLE ${TABLE} (id BIGINT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(32) NOT NULL)`,
  );
  await waitFor('both replicas to acknowledge semi-synchronously', async () => {
    const s = await stateOf(primary);
    return s.semiSyncActive && s.semiSyncReplicas === 2;
  });
}, 120_000);

let writer: AcknowledgedWriter | undefined;

afterAll(async () => {
  await writer?.stop();
  for (const p of pods) p.server?.resume();
  await Promise.all(pods.map((p) => p.destroy()));
});

describe('failover of a MariaDB group', () => {
  const deleted: string[] = [];
  /** The old primary of the planned switchover (it rejoined the copy that took over). */
  let switchedFrom: DatabasePod | undefined;
  /** Whether each rebuilt member refused writes when its rebuild began. */
  const readOnlyBeforeRebuild = new Map<string, boolean>();
  const hooks: Hooks = {
    deletePod: async (pod) => {
      deleted.push(pod);
    },
    // As the reconciler will: the member's volume is emptied and it is bootstrapped again from the primary
    // (here a fresh replica pod takes its place).
    rebuild: async (pod, from) => {
      const i = pods.findIndex((p) => p.name === pod);
      readOnlyBeforeRebuild.set(pod, (await stateOf(pods[i]!)).readOnly);
      await pods[i]!.destroy();
      const fresh = new DatabasePod({
        ...db,
        statefulSet: 'shop-db-replica',
        ordinal: 2 + readOnlyBeforeRebuild.size,
        primaryPort: byName(from).server!.port,
      });
      pods[i] = fresh;
      await fresh.start();
    },
  };

  it('the primary killed under a stream of writes: a replica is promoted, the other follows, no acknowledged write is lost', async () => {
    writer = new AcknowledgedWriter(() => primary, TABLE);
    await writer.waitForMore(300);
    // Replicas apply the stream as it comes (a replica that waited for acknowledgements of its own would not).
    const primaryHas = (await stateOf(primary)).executed;
    for (const r of pods.slice(1)) {
      await waitFor(
        `${r.name} to apply what the primary executed`,
        async () => isSubset(primaryHas, (await stateOf(r)).executed),
        3000,
      );
    }
    const old = primary;
    const killedAt = Date.now();
    await old.server!.kill();

    const members = endpoints(pods, old);
    const { decision, waits } = await decideWhenReady(members, old.name, SETTINGS);
    const decidedAt = Date.now();
    expect(waits[0]).toMatch(/primary shop-db-primary-0 is unreachable for 0 s of the 2 s before failover/);
    expect(decision).toMatchObject({ action: 'failover', from: old.name, fence: 'delete-pod' });
    if (decision.action !== 'failover') throw new Error('unreachable');
    const steps = await execute(decision, members, executorConfig, hooks);
    expect(steps.filter((s) => s.error)).toEqual([]);
    expect(deleted).toEqual([old.name]);
    primary = byName(decision.to);
    const promotedAt = Date.now();

    await writer.waitForMore(300);
    await writer.stop();
    const acked = writer.acks.map((a) => a.value);
    acked.forEach((v) => acknowledged.add(v));
    const onNewPrimary = await rowValues(primary, TABLE);
    const lost = acked.filter((v) => !onNewPrimary.has(v));
    const gap = writer.longestPauseFromMs(killedAt);
    console.log(
      `kill -9 of the primary: ${acked.length} writes acknowledged, ${lost.length} lost; ` +
        `${(gap / 1000).toFixed(2)} s without writes (detection ${((decidedAt - killedAt) / 1000).toFixed(2)} s ` +
        `with ${SETTINGS.unreachableSeconds} s to wait, executor ${((promotedAt - decidedAt) / 1000).toFixed(2)} s: ` +
        `${steps.map((s) => `${s.step} ${s.pod} ${s.ms} ms`).join(', ')})`,
    );
    expect(lost).toEqual([]);

    const other = byName(decision.repoint[0]!);
    expect(decision.repoint).toHaveLength(1);
    await waitFor(`${other.name} to hold every row of the new primary`, async () => {
      const have = await rowValues(other, TABLE);
      return [...onNewPrimary].every((v) => have.has(v));
    });
    expect(await stateOf(other)).toMatchObject({
      readOnly: true,
      replica: { sourcePort: primary.server!.port, ioThread: 'Yes', sqlRunning: true },
    });
    expect(await stateOf(primary)).toMatchObject({ readOnly: false });
    expect((await stateOf(primary)).replica).toBeUndefined();
  }, 120_000);

  it('the old primary, started again on its volume, is fenced and rejoins as a replica (or is flagged for rebuild when it holds unacknowledged transactions)', async () => {
    const old = pods[0]!;
    await old.start();
    const members = endpoints(pods, primary);
    const observed = await observeGroup(members, executorConfig);
    expect(observed.find((m) => m.pod === old.name)).toMatchObject({ reachable: true });
    const { decision } = await decideWhenReady(members, primary.name, SETTINGS);
    expect(['rejoin-as-replica', 'rebuild']).toContain(decision.action);
    let oldRows = new Set<string>();
    let onPrimary = new Set<string>();
    if (decision.action === 'rebuild') {
      // Read before the rebuild replaces it.
      oldRows = await rowValues(old, TABLE);
      onPrimary = await rowValues(primary, TABLE);
    }
    const steps = await execute(decision, members, executorConfig, hooks);
    expect(steps[0]).toMatchObject({ step: 'fence read_only', pod: old.name });
    expect(steps.filter((s) => s.error)).toEqual([]);
    if (decision.action === 'rebuild') {
      // What it held beyond the new primary was never acknowledged to a client.
      const extra = [...oldRows].filter((v) => !onPrimary.has(v));
      console.log(`the old primary held transactions ${decision.errant} (rows ${extra.join(', ')}): rebuilt`);
      expect(extra.length).toBeGreaterThan(0);
      expect(extra.filter((v) => acknowledged.has(v))).toEqual([]);
      expect(steps.map((s) => s.step)).toEqual(['fence read_only', 'rebuild']);
    }
    const member = pods[0]!;
    await appQuery(primary, `INSERT INTO ${TABLE} (v) VALUES ('after the rejoin')`);
    const want = await rowValues(primary, TABLE);
    await waitFor(`${member.name} to hold every row of the new primary`, async () => {
      const have = await rowValues(member, TABLE);
      return have.size === want.size && [...want].every((v) => have.has(v));
    });
    expect(await stateOf(member)).toMatchObject({
      readOnly: true,
      replica: { sourcePort: primary.server!.port, ioThread: 'Yes', sqlRunning: true },
    });
    // Every member follows the new primary now: nothing more to do.
    expect((await decideWhenReady(endpoints(pods, primary), primary.name, SETTINGS)).decision).toEqual({
      action: 'nothing',
    });
  }, 120_000);

  it('a primary that stops answering (SIGSTOP, a partition) is fenced by deleting its pod; when it answers again it is made read-only first', async () => {
    writer = new AcknowledgedWriter(() => primary, TABLE);
    await writer.waitForMore(200);
    const partitioned = primary;
    const members = endpoints(pods, partitioned);
    const pausedAt = Date.now();
    partitioned.server!.pause();

    const { decision } = await decideWhenReady(members, partitioned.name, SETTINGS);
    // The operator cannot reach it to set read_only: only deleting its pod keeps it from taking writes.
    expect(decision).toMatchObject({ action: 'failover', from: partitioned.name, fence: 'delete-pod' });
    if (decision.action !== 'failover') throw new Error('unreachable');
    expect(decision.repoint).toHaveLength(1);
    const steps = await execute(decision, members, executorConfig, hooks);
    expect(steps.map((s) => [s.step, s.pod, s.error])).toEqual([
      ['fence delete-pod', partitioned.name, undefined],
      ['promote', decision.to, undefined],
      ['repoint', decision.repoint[0], undefined],
    ]);
    primary = byName(decision.to);
    await writer.waitForMore(200);

    // The pod's deletion is the reconciler's (next to come); here the frozen server answers again instead.
    partitioned.server!.resume();
    const next = await decideWhenReady(endpoints(pods, primary), primary.name, SETTINGS);
    expect(next.decision).toMatchObject({ pod: partitioned.name, primary: primary.name });
    expect(['rejoin-as-replica', 'rebuild']).toContain(next.decision.action);
    const rejoin = await execute(next.decision, endpoints(pods, primary), executorConfig, hooks);
    expect(rejoin[0]).toMatchObject({ step: 'fence read_only', pod: partitioned.name });
    expect(rejoin[0]!.error).toBeUndefined();
    if (next.decision.action === 'rebuild') {
      // It committed what it held when it froze (unacknowledged: the client had given up): copied again.
      expect(readOnlyBeforeRebuild.get(partitioned.name)).toBe(true);
      expect(rejoin.map((s) => [s.step, s.error])).toEqual([
        ['fence read_only', undefined],
        ['rebuild', undefined],
      ]);
    } else {
      expect(await stateOf(partitioned)).toMatchObject({ readOnly: true });
      await expect(
        appQuery(partitioned, `INSERT INTO ${TABLE} (v) VALUES ('split brain')`),
      ).rejects.toMatchObject({ code: 'ER_OPTION_PREVENTS_STATEMENT' });
    }
    await writer.waitForMore(100);
    await writer.stop();
    const onNewPrimary = await rowValues(primary, TABLE);
    const acked = writer.acks.map((a) => a.value);
    const lost = acked.filter((v) => !onNewPrimary.has(v));
    console.log(
      `SIGSTOP of the primary: ${acked.length} writes acknowledged, ${lost.length} lost; ` +
        `${(writer.longestPauseFromMs(pausedAt) / 1000).toFixed(2)} s without writes; the frozen primary, thawed: ${next.decision.action} ` +
        `(${rejoin.map((s) => `${s.step} ${s.ms} ms${s.error ? ` (${s.error})` : ''}`).join(', ')})`,
    );
    expect(lost).toEqual([]);
  }, 120_000);

  it('a planned switchover to a member bootstrapped from a dump, under writes: no acknowledged write lost, a short pause, the old primary rejoins as its replica', async () => {
    // Every member follows the primary first (the previous test may have left one rejoining).
    await settle(pods, primary, { hooks });
    // Both replicas are copied again from the primary, so the one that takes over was bootstrapped from a dump.
    // The primary's history names earlier primaries' servers (it replicated their writes): the copy must carry
    // it, or the old primary would look as if it held transactions the new one lacks.
    const history = (await operatorOn(primary, (c) => c.query('SELECT @@gtid_binlog_state AS s')))[0]!.s;
    for (const replica of pods.filter((p) => p !== primary)) await hooks.rebuild!(replica.name, primary.name);
    for (const copy of pods.filter((p) => p !== primary)) {
      expect(isSubset(parseMariaDB(String(history)), (await stateOf(copy)).executed)).toBe(true);
    }
    await settle(pods, primary, { hooks });
    writer = new AcknowledgedWriter(() => primary, TABLE);
    await writer.waitForMore(200);
    const old = primary;
    switchedFrom = old;
    const members = endpoints(pods, old).map((m) => (m.pod === old.name ? { ...m, demote: true } : m));
    const requestedAt = Date.now();
    const pass = await groupPass(members, old.name, {}, SETTINGS, executorConfig, hooks);
    expect(pass.decision).toMatchObject({
      action: 'failover',
      from: old.name,
      fence: 'read_only',
      switchover: true,
    });
    expect(pass.steps.filter((s) => s.error)).toEqual([]);
    expect(pass.steps.map((s) => s.step)).toEqual([
      'fence read_only',
      'catch up',
      'promote',
      'record',
      ...pass.steps.slice(4).map(() => 'repoint'),
    ]);
    primary = byName(pass.primary);
    expect(primary).not.toBe(old);
    await writer.waitForMore(200);
    await writer.stop();
    const acked = writer.acks.map((a) => a.value);
    const onNewPrimary = await rowValues(primary, TABLE);
    const lost = acked.filter((v) => !onNewPrimary.has(v));
    const pause = writer.longestPauseFromMs(requestedAt);
    console.log(
      `switchover ${old.name} → ${primary.name}: ${acked.length} writes acknowledged, ${lost.length} lost; ` +
        `${(pause / 1000).toFixed(2)} s without writes (${pass.steps.map((s) => `${s.step} ${s.pod} ${s.ms} ms`).join(', ')})`,
    );
    expect(lost).toEqual([]);
    expect(pause).toBeLessThan(5000);
    // The old primary, fenced cleanly, holds nothing the new one lacks: it rejoins as a replica, not copied again.
    const passes = await settle(pods, primary, { hooks });
    console.log(
      `history of the old primary ${String(history)}; after the switchover: ${JSON.stringify(passes.map((p) => p.decision))}`,
    );
    expect(String(history).split(',').length).toBeGreaterThan(1);
    expect(passes[0]!.decision).toMatchObject({
      action: 'rejoin-as-replica',
      pod: old.name,
      primary: primary.name,
    });
    expect(passes.at(-1)!.decision.action).toBe('nothing');
    expect(pods).toContain(old);
    expect(await stateOf(old)).toMatchObject({
      readOnly: true,
      replica: { sourcePort: primary.server!.port, ioThread: 'Yes', sqlRunning: true },
    });
  }, 120_000);

  it("the old primary writing on its own after the switchover is still found errant and copied again, though its sequence numbers stay below the new primary's position", async () => {
    const stray = switchedFrom!;
    const index = pods.indexOf(stray);
    expect(index).toBeGreaterThanOrEqual(0);
    const binlogSeq = async (pod: DatabasePod) =>
      Number(
        String((await pod.server!.query<{ p: string }[]>('SELECT @@gtid_binlog_pos AS p'))[0]!.p).split(
          '-',
        )[2],
      );
    // It stops following the copy that took over; the primary goes on (0-<primary>-n+1 …); it commits one of
    // its own as root (read_only does not stop root), numbered after the last it applied: below the primary's.
    await stray.server!.query('STOP SLAVE');
    for (let i = 0; i < 20; i++)
      await appQuery(primary, `INSERT INTO ${TABLE} (v) VALUES ('after the stop ${i}')`);
    await stray.server!.query(`INSERT INTO ${APP_DATABASE}.${TABLE} (v) VALUES ('errant')`);
    expect(await binlogSeq(stray)).toBeLessThan(await binlogSeq(primary));

    const { decision } = await decideWhenReady(endpoints(pods, primary), primary.name, SETTINGS);
    console.log(`the old primary, having written on its own: ${JSON.stringify(decision)}`);
    expect(decision).toMatchObject({ action: 'rebuild', pod: stray.name, primary: primary.name });
    const steps = await execute(decision, endpoints(pods, primary), executorConfig, hooks);
    expect(steps.filter((s) => s.error)).toEqual([]);
    expect(pods).not.toContain(stray);
    expect((await settle(pods, primary, { hooks })).at(-1)!.decision.action).toBe('nothing');
    // A fresh copy of the primary took its place: without the row the primary never had, following the primary.
    const copy = pods[index]!;
    expect(await rowValues(copy, TABLE)).not.toContain('errant');
    expect(await stateOf(copy)).toMatchObject({
      readOnly: true,
      replica: { sourcePort: primary.server!.port },
    });
  }, 120_000);
});
