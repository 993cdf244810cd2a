import { describe, expect, it } from '@jest/globals';
import { shardMap } from '../api/sharding.js';
import type { ServerConnection } from '../replication/connect.js';
import { serializeMap } from './map.js';
import { type BatchMoved, reshardPass, type Topology } from './pass.js';
import { planned } from './steps.js';

const map = (owners: number[]) => ({ version: 4, owners, moving: [], progress: undefined });
const target = { count: 3, batchBuckets: 128, mapMaxAgeMs: 2_000 };

/** A server no test connects to by this address (the main primary and shards that never answer for real). */
const ENDPOINT = { primary: { host: 'db', port: 3306 }, replicas: [] };
/** The app's groups: the main one at ENDPOINT, and `shards`. */
const topologyOf = (shards: Topology['shards']): Topology => ({
  engine: 'mariadb',
  database: 'shop',
  user: 'app',
  password: 'pw',
  main: ENDPOINT,
  shards,
});

describe('planned: the progress of a new resharding or of a new target', () => {
  it('a new one: counts from the owners, the first batch, held 2 × mapMaxAgeMs for apps that saw no map', () => {
    expect(planned(map(shardMap(2)), target, 1_000)).toEqual({
      fromCount: 2,
      toCount: 3,
      batchBuckets: 128,
      batch: 0,
      step: 'precopy',
      current: { from: 0, to: 2, buckets: expect.any(Array) },
      totalBuckets: 341,
      movedBuckets: 0,
      startedAt: 1_000,
      holdUntil: 5_000,
    });
  });

  it('a new target keeps what was done (batches, moved buckets, start, last flip) and is not held again', () => {
    const base = planned(map(shardMap(2)), target, 1_000);
    const next = planned(map(shardMap(3)), { ...target, count: 2 }, 9_000, {
      ...base,
      batch: 3,
      movedBuckets: 341,
      lastFlipAt: 8_000,
      lastPauseMs: 120,
    });
    expect(next).toMatchObject({ fromCount: 2, toCount: 2, batch: 3, movedBuckets: 341, totalBuckets: 682 });
    expect(next).toMatchObject({ startedAt: 1_000, lastFlipAt: 8_000, lastPauseMs: 120, step: 'precopy' });
    expect(next.holdUntil).toBeUndefined();
  });

  it('nothing left to move goes to the drain; 0 shards count from all-main owners', () => {
    expect(planned(map(shardMap(3)), target, 1_000)).toMatchObject({ step: 'drain', totalBuckets: 0 });
    expect(planned(map(new Array(1024).fill(-1)), target, 1_000)).toMatchObject({
      fromCount: 0,
      totalBuckets: 1024,
    });
  });
});

describe('reshardPass refuses a target the topology cannot hold, before connecting', () => {
  const topology = topologyOf([ENDPOINT, ENDPOINT]);
  const connect = () => Promise.reject(new Error('must not connect'));

  it.each([
    [{ ...target, count: 3 }, 'target shard count 3: the topology lists 2 shards'],
    [{ ...target, count: 2, seedCount: 5 }, 'seed shard count 5: the topology lists 2 shards'],
    [{ ...target, count: 2, batchBuckets: 0 }, 'batchBuckets must be a positive integer, got 0'],
    [{ ...target, count: 2, mapMaxAgeMs: -1 }, 'mapMaxAgeMs must be at least 0, got -1'],
  ])('%j', async (t, message) => {
    expect(await reshardPass(topology, t, { connect })).toMatchObject({
      state: 'failed',
      reason: 'Error',
      version: 0,
      message: `resharding pass failed: ${message}`,
    });
  });

  it('an unreachable main primary is a failed pass that says so, not a throw', async () => {
    expect(await reshardPass(topology, { ...target, count: 2 }, { connect })).toMatchObject({
      state: 'failed',
      reason: 'Error',
      message: 'resharding pass failed: must not connect',
      retryAfterMs: 60_000,
    });
  });
});

describe('a pass resumed in a batch', () => {
  const topology = topologyOf([
    ENDPOINT,
    ENDPOINT,
    { primary: { host: 'shard-2', port: 3306 }, replicas: [] },
  ]);

  /**
   * One fake server for every group: the map row in memory, every other statement answered with no rows. `down`:
   * shard 2 (the first batch's destination) does not answer.
   */
  function fakeServers(progress: object, down = false) {
    const first = planned(map(shardMap(2)), target, 1_000);
    let row: Record<string, unknown> = {
      ...serializeMap({
        version: 5,
        owners: shardMap(2),
        moving: first.current!.buckets,
        progress: undefined,
      }),
      progress: JSON.stringify({ ...first, ...progress }),
    };
    const conn: ServerConnection = {
      async query(sql, params = []) {
        if (/^SELECT version, owners/.test(sql)) return [row];
        if (/UNIX_TIMESTAMP/.test(sql)) return [{ now: 20_000 }];
        if (/^UPDATE `_sapp_shard_map`/.test(sql)) {
          const [version, owners, moving, next] = params;
          row = { version, owners, moving, progress: next };
        }
        return [];
      },
      close: async () => {},
    };
    const connect = async (at: { host: string }) => {
      if (down && at.host === 'shard-2') throw new Error('connect ECONNREFUSED shard-2:3306');
      return conn;
    };
    return { connect, batch: first.current!, map: () => row };
  }

  it('reports the batch’s rows that verify counted (recorded with the step), not 0', async () => {
    const { connect, batch } = fakeServers({ step: 'flip', pausedAt: 19_000, rows: 1_234 });
    const moved: BatchMoved[] = [];
    const result = await reshardPass(
      topology,
      { ...target, seedCount: 2 },
      { connect, budgetMs: 0, onBatch: (b) => moved.push(b) },
    );
    expect(result).toMatchObject({ state: 'moving', movedBuckets: batch.buckets.length, lastPauseMs: 1_000 });
    expect(moved).toEqual([{ ...batch, rows: 1_234, pauseMs: 1_000, version: 6 }]);
  });

  it('a flip recorded without the count (an older operator) says the rows are unknown', async () => {
    const { connect } = fakeServers({ step: 'flip', pausedAt: 19_000 });
    const moved: BatchMoved[] = [];
    await reshardPass(
      topology,
      { ...target, seedCount: 2 },
      { connect, budgetMs: 0, onBatch: (b) => moved.push(b) },
    );
    expect(moved).toHaveLength(1);
    expect(moved[0]!.rows).toBeUndefined();
  });

  describe('a batch whose destination does not answer while its writes are paused', () => {
    it.each([
      ['copy', 19_000, 'failed: Error, again in 1 s (paused 1 s, under the bound)'],
      ['copy', -20_000, 'rolled back (paused 40 s)'],
      ['verify', -20_000, 'rolled back (paused 40 s)'],
      ['flip', -20_000, 'failed: Error, again in 1 s (the flip may have given it the batch)'],
    ])('at %s, paused since %d (now 20,000): %s', async (step, pausedAt, outcome) => {
      const { connect, map } = fakeServers({ step, pausedAt }, true);
      const result = await reshardPass(topology, { ...target, seedCount: 2 }, { connect });
      if (outcome.startsWith('rolled back')) {
        expect(result).toMatchObject({
          state: 'failed',
          reason: 'DestinationUnreachable',
          retryAfterMs: 60_000,
        });
        expect(result.message).toMatch(
          /^DestinationUnreachable: the batch of 128 buckets from shard 0 to shard 2 was rolled back, writes resumed; shard 2's primary did not answer after the batch's writes were paused 40000 ms \(connect ECONNREFUSED shard-2:3306\)/,
        );
        expect(map()).toMatchObject({ version: 6, moving: '' });
        expect(JSON.parse(String(map().progress))).toMatchObject({
          step: 'precopy',
          error: { reason: 'DestinationUnreachable', at: 20_000 },
        });
      } else {
        expect(result).toMatchObject({ state: 'failed', reason: 'Error', retryAfterMs: 1_000 });
        expect(result.message).toMatch(
          /ECONNREFUSED.*writes to 128 buckets stay paused until the next pass$/,
        );
        expect(map()).toMatchObject({ version: 5 });
      }
    });
  });
});
