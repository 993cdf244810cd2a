// A pass whose recorded progress is stale (another pass, e.g. of the operator that took over the lease, has moved
// the resharding on since it read the map) must change no fence: each step's fence changes happen under the map
// row's lock, after checking the progress, so the stale pass stops with the fences as the current pass left them.
import { describe, expect, it } from '@jest/globals';
import { shardMap } from '../api/sharding.js';
import type { ServerConnection } from '../replication/connect.js';
import { type ShardMapState, parseMapRow, serializeMap } from './map.js';
import type { Topology } from './pass.js';
import type { Progress } from './progress.js';
import { Servers } from './servers.js';
import { abandonUnreachable, type Context, type Options, planned, STEP_ACTIONS } from './steps.js';

const target = { count: 3, batchBuckets: 128, mapMaxAgeMs: 2_000 };
const ep = (host: string) => ({ primary: { host, port: 3306 }, replicas: [] });
const topology: Topology = {
  engine: 'mariadb',
  database: 'shop',
  user: 'app',
  password: 'pw',
  main: ep('main'),
  shards: [ep('shard-0'), ep('shard-1'), ep('shard-2')],
};

/** Every group's fence rows and the map row in memory; `down` hosts do not answer. */
function fakeCluster(map: ShardMapState, down: string[] = []) {
  const fences = new Map<string, Map<number, string>>();
  let row: Record<string, unknown> = { ...serializeMap(map) };
  const server = (host: string): ServerConnection => {
    const fence = fences.get(host) ?? new Map<number, string>();
    fences.set(host, fence);
    return {
      async query(sql, params = []) {
        if (/^SELECT version, owners/.test(sql)) return [row];
        if (/UNIX_TIMESTAMP/.test(sql)) return [{ now: 100_000 }];
        if (/^UPDATE `_sapp_shard_map`/.test(sql)) {
          const [version, owners, moving, progress] = params;
          row = { version, owners, moving, progress };
        }
        if (/^INSERT INTO `_sapp_shard_buckets`/.test(sql)) {
          const state = String(params.at(-1));
          for (let i = 0; i < params.length - 1; i += 2) fence.set(Number(params[i]), state);
        }
        if (/^SELECT bucket, state FROM `_sapp_shard_buckets`/.test(sql)) {
          return params
            .filter((b) => fence.has(Number(b)))
            .map((b) => ({ bucket: b, state: fence.get(Number(b)) }));
        }
        if (/^DELETE FROM `_sapp_shard_buckets`/.test(sql)) for (const b of params) fence.delete(Number(b));
        return [];
      },
      close: async () => {},
    };
  };
  const connect = async (at: { host: string }) => {
    if (down.includes(at.host)) throw new Error(`connect ECONNREFUSED ${at.host}:3306`);
    return server(at.host);
  };
  const servers = new Servers(topology, connect, { connectMs: 1_000, queryMs: 1_000 });
  const fenceOf = (host: string, bucket: number) => fences.get(host)?.get(bucket);
  const setFences = (host: string, buckets: number[], state: string) => {
    const fence = fences.get(host) ?? new Map<number, string>();
    fences.set(host, fence);
    for (const b of buckets) fence.set(b, state);
  };
  return {
    servers,
    fenceOf,
    setFences,
    map: () => parseMapRow(row as never),
    setMap: (m: ShardMapState) => (row = { ...serializeMap(m) }),
  };
}

async function context(cluster: ReturnType<typeof fakeCluster>): Promise<Context> {
  const opts = {
    sleep: async () => {},
    now: () => 0,
    lockWaitSeconds: 10,
    retryAfterMs: 60_000,
    unreachableRollbackMs: 30_000,
    chunkRows: 1_000,
  } as unknown as Options;
  return {
    database: 'shop',
    target,
    servers: cluster.servers,
    main: await cluster.servers.primary(-1),
    opts,
  };
}

const first = planned({ version: 4, owners: shardMap(2), moving: [], progress: undefined }, target, 1_000);
const batch = first.current!;
const at = (step: Progress['step'], extra: Partial<Progress> = {}): Progress => ({
  ...first,
  step,
  pausedAt: 50_000,
  ...extra,
});
const paused = (p: Progress): ShardMapState => ({
  version: 5,
  owners: shardMap(2),
  moving: batch.buckets,
  progress: p,
});
/** The map after the other pass rolled the batch back: the source owns it again, writes resume there. */
const rolledBack: ShardMapState = {
  version: 6,
  owners: shardMap(2),
  moving: [],
  progress: {
    ...first,
    step: 'precopy',
    error: { reason: 'ReplicaLag', message: 'lag', at: 90_000 },
  },
};
/** The map after the other pass flipped the batch: the destination owns it. */
const flipped: ShardMapState = {
  version: 6,
  owners: shardMap(2).map((o, b) => (batch.buckets.includes(b) ? batch.to : o)),
  moving: [],
  progress: { ...first, batch: 1, step: 'drain', movedBuckets: batch.buckets.length },
};
const b0 = batch.buckets[0]!;

describe('a pass whose progress is stale changes no fence', () => {
  it('flip, after the other pass rolled the batch back: the source stays owned, the destination not owned', async () => {
    const cluster = fakeCluster(paused(at('flip')));
    const ctx = await context(cluster);
    const stale = cluster.map();
    // The other pass rolled the batch back: the destination's fence rows gone, the source's owned.
    cluster.setMap(rolledBack);
    cluster.setFences(`shard-${batch.from}`, batch.buckets, 'owned');
    await expect(STEP_ACTIONS.flip(ctx, stale.progress!, stale)).rejects.toThrow(
      'another pass moved the resharding on (precopy of batch 0, this pass was at flip of batch 0)',
    );
    expect(cluster.fenceOf(`shard-${batch.from}`, b0)).toBe('owned');
    expect(cluster.fenceOf(`shard-${batch.to}`, b0)).toBeUndefined();
    expect(cluster.map()).toEqual(rolledBack);
  });

  it('fence, after the other pass rolled the batch back: the source stays owned (not moving)', async () => {
    const cluster = fakeCluster(paused(at('fence')));
    const ctx = await context(cluster);
    const stale = cluster.map();
    cluster.setMap(rolledBack);
    cluster.setFences(`shard-${batch.from}`, batch.buckets, 'owned');
    await expect(STEP_ACTIONS.fence(ctx, stale.progress!, stale)).rejects.toThrow('another pass moved');
    expect(cluster.fenceOf(`shard-${batch.from}`, b0)).toBe('owned');
  });

  it('a rollback (destination unreachable), after the other pass flipped the batch: the source stays moved', async () => {
    const cluster = fakeCluster(paused(at('verify')), [`shard-${batch.to}`]);
    const ctx = await context(cluster);
    const stale = cluster.map();
    cluster.setMap(flipped);
    cluster.setFences(`shard-${batch.from}`, batch.buckets, 'moved');
    await expect(abandonUnreachable(ctx, stale)).rejects.toThrow('another pass moved');
    expect(cluster.fenceOf(`shard-${batch.from}`, b0)).toBe('moved');
    expect(cluster.map()).toEqual(flipped);
  });

  it('precopy, after the other pass flipped the batch: the destination stays owned (not incoming)', async () => {
    const cluster = fakeCluster({ ...paused(at('precopy')), moving: [] });
    const ctx = await context(cluster);
    const stale = cluster.map();
    cluster.setMap(flipped);
    cluster.setFences(`shard-${batch.to}`, batch.buckets, 'owned');
    cluster.setFences(`shard-${batch.from}`, batch.buckets, 'moved');
    await expect(STEP_ACTIONS.precopy(ctx, stale.progress!, stale)).rejects.toThrow(
      `the destination owns bucket ${b0} (its fence says owned): another pass has moved the batch on`,
    );
    expect(cluster.fenceOf(`shard-${batch.to}`, b0)).toBe('owned');
  });

  it('a current pass still flips: destination owned, source moved, the map names the destination', async () => {
    const cluster = fakeCluster(paused(at('flip')));
    const ctx = await context(cluster);
    const current = cluster.map();
    const out = await STEP_ACTIONS.flip(ctx, current.progress!, current);
    expect(cluster.fenceOf(`shard-${batch.to}`, b0)).toBe('owned');
    expect(cluster.fenceOf(`shard-${batch.from}`, b0)).toBe('moved');
    expect('map' in out && out.map.owners[b0]).toBe(batch.to);
  });
});

describe("a step taken up from an earlier pass sets the batch's fences again from the progress", () => {
  it.each(['copy', 'verify'] as const)(
    'at %s, after a pass that died inside a rollback (source owned, destination fence gone): source moving, destination incoming',
    async (step) => {
      const cluster = fakeCluster(paused(at(step)));
      const ctx = await context(cluster);
      cluster.setFences(`shard-${batch.from}`, batch.buckets, 'owned');
      const resumed = cluster.map();
      await STEP_ACTIONS[step](ctx, resumed.progress!, resumed);
      expect(cluster.fenceOf(`shard-${batch.from}`, b0)).toBe('moving');
      expect(cluster.fenceOf(`shard-${batch.to}`, b0)).toBe('incoming');
    },
  );
});
