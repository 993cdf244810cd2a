import { describe, expect, it } from '@jest/globals';
import { Unavailable } from './availability.js';
import { CHECK_FENCE_SQL, ER_NO_SUCH_TABLE } from './contract.js';
import type { Databases, Session } from './db.js';
import { checkFence, FenceClosed, OrderRouter, placementOf } from './routing.js';
import type { ShardMap, ShardMapClient } from './shard-map.js';
import { bucketForKey } from './shards.js';

const BUCKETS = 16;
const CUSTOMER = 42;
const BUCKET = bucketForKey(CUSTOMER, BUCKETS);

function mapWith(owner: number, { version = 1, moving = false } = {}): ShardMap {
  const owners = new Array<number>(BUCKETS).fill(0);
  owners[BUCKET] = owner;
  return { version, owners, moving: new Set(moving ? [BUCKET] : []), source: 'table' };
}

describe('placementOf', () => {
  const map: ShardMap = { version: 1, owners: [-1, 0, 1, 2], moving: new Set(), source: 'table' };
  it.each([
    [0, 2, { kind: 'main' }],
    [1, 2, { kind: 'shard', index: 0 }],
    [2, 2, { kind: 'shard', index: 1 }],
    [3, 2, { kind: 'unknown', index: 2 }],
    [3, 3, { kind: 'shard', index: 2 }],
  ])('bucket %i with %i shards in the binding is %j', (bucket, shards, placement) => {
    expect(placementOf(map, bucket, shards)).toEqual(placement);
  });

  it('refuses a bucket outside the map', () => {
    expect(() => placementOf(map, 4, 3)).toThrow(/bucket 4 is not in the shard map/);
  });
});

/** A group's primary: its fence rows (undefined: no fence table) and the rows written in committed transactions. */
function fakeGroup(name: string, fence: Map<number, string> | undefined) {
  const committed: string[] = [];
  const tx = (written: string[]): Session => ({
    rows: async <T>(sql: string, params: unknown[] = []) => {
      if (sql !== CHECK_FENCE_SQL) throw new Error(`unexpected ${sql}`);
      if (!fence) throw Object.assign(new Error('no fence table'), { errno: ER_NO_SUCH_TABLE });
      const state = fence.get(params[0] as number);
      return (state ? [{ state }] : []) as T[];
    },
    exec: async (sql: string) => {
      written.push(sql);
      return { affectedRows: 1, insertId: 1 } as never;
    },
  });
  const write = {
    target: name,
    assertAvailable() {},
    async transaction<T>(fn: (s: Session) => Promise<T>): Promise<T> {
      const written: string[] = [];
      const result = await fn(tx(written));
      committed.push(...written);
      return result;
    },
  };
  return { write, read: { name }, committed };
}

/** A router over fake groups and a map client whose successive reads are `maps` (the last one repeats). */
function routerOver(maps: ShardMap[], groups: ReturnType<typeof fakeGroup>[], writeDeadlineMs = 1_000) {
  let reads = 0;
  const next = () => Promise.resolve(maps[Math.min(reads++, maps.length - 1)]!);
  const client = { current: next, refresh: next } as unknown as ShardMapClient;
  const dbs = {
    shards: groups.slice(1),
    group: (owner: number) => groups[owner + 1]!,
  } as unknown as Databases;
  return { router: new OrderRouter(dbs, client, { buckets: BUCKETS, writeDeadlineMs }), reads: () => reads };
}

const insert = (tx: Session) => tx.exec('INSERT INTO orders …');

describe('checkFence', () => {
  it('goes on where the row says owned or there is no fence table, and refuses any other state', async () => {
    const owned = fakeGroup('a', new Map([[BUCKET, 'owned']]));
    await owned.write.transaction((tx) => checkFence(tx, BUCKET));
    await fakeGroup('b', undefined).write.transaction((tx) => checkFence(tx, BUCKET));
    for (const state of ['moving', 'incoming', 'moved', undefined]) {
      const group = fakeGroup('c', new Map(state ? [[BUCKET, state]] : []));
      const err = await group.write.transaction((tx) => checkFence(tx, BUCKET)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FenceClosed);
      expect((err as FenceClosed).state).toBe(state);
    }
  });
});

describe('OrderRouter', () => {
  it('routes a customer to the owner of their bucket: -1 the main database, i shard i', async () => {
    const groups = [fakeGroup('primary', undefined), fakeGroup('shard-0', undefined)];
    expect(await routerOver([mapWith(-1)], groups).router.target(CUSTOMER)).toMatchObject({
      bucket: BUCKET,
      shard: null,
      write: groups[0]!.write,
      read: groups[0]!.read,
    });
    expect(await routerOver([mapWith(0)], groups).router.target(CUSTOMER)).toMatchObject({
      shard: 0,
      write: groups[1]!.write,
    });
  });

  it('reads the map again for a shard the binding lacks, then answers 503 naming it', async () => {
    const groups = [fakeGroup('primary', undefined), fakeGroup('shard-0', undefined)];
    const known = routerOver([mapWith(3), mapWith(0, { version: 2 })], groups);
    expect((await known.router.target(CUSTOMER)).shard).toBe(0);
    expect(known.reads()).toBe(2);
    const err = await routerOver([mapWith(3)], groups)
      .router.target(CUSTOMER)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Unavailable);
    expect((err as Unavailable).dependency).toBe('shard-3');
    expect((err as Error).message).toMatch(/owns bucket \d+ but this pod's binding lists 1 shards/);
  });

  it('writes on the owner after the fence check; without a fence table it writes as before', async () => {
    const groups = [fakeGroup('primary', undefined), fakeGroup('shard-0', new Map([[BUCKET, 'owned']]))];
    const result = await routerOver([mapWith(0)], groups).router.write(CUSTOMER, async (tx, target) => {
      await insert(tx);
      return target.shard;
    });
    expect(result).toBe(0);
    expect(groups[1]!.committed).toEqual(['INSERT INTO orders …']);
    await routerOver([mapWith(-1)], groups).router.write(CUSTOMER, insert);
    expect(groups[0]!.committed).toEqual(['INSERT INTO orders …']);
  });

  it('waits while the map lists the bucket as moving, then writes on the new owner', async () => {
    const groups = [
      fakeGroup('primary', new Map([[BUCKET, 'moving']])),
      fakeGroup('shard-0', new Map([[BUCKET, 'owned']])),
    ];
    const moving = mapWith(-1, { version: 2, moving: true });
    const { router, reads } = routerOver([moving, moving, moving, mapWith(0, { version: 3 })], groups);
    await router.write(CUSTOMER, insert);
    expect(reads()).toBe(4);
    expect(groups[0]!.committed).toEqual([]);
    expect(groups[1]!.committed).toEqual(['INSERT INTO orders …']);
  });

  it('rolls back where the fence is not owned (a stale map), reads the map again and lands on the owner', async () => {
    const groups = [
      fakeGroup('primary', new Map([[BUCKET, 'moved']])),
      fakeGroup('shard-0', new Map([[BUCKET, 'owned']])),
    ];
    const { router, reads } = routerOver([mapWith(-1), mapWith(0, { version: 3 })], groups);
    await router.write(CUSTOMER, insert);
    expect(reads()).toBe(2);
    expect(groups[0]!.committed).toEqual([]);
    expect(groups[1]!.committed).toEqual(['INSERT INTO orders …']);
  });

  it('answers 503 when the bucket is still moving at the deadline', async () => {
    const groups = [fakeGroup('primary', new Map([[BUCKET, 'moving']]))];
    const { router } = routerOver([mapWith(-1, { moving: true })], groups, 300);
    const started = performance.now();
    const err = await router.write(CUSTOMER, insert).catch((e: unknown) => e);
    const waited = performance.now() - started;
    expect(err).toBeInstanceOf(Unavailable);
    expect((err as Unavailable).dependency).toBe(`bucket-${BUCKET}`);
    expect((err as Error).message).toMatch(/being moved \(moving \(map version 1\)\) for more than 300 ms/);
    expect(waited).toBeGreaterThan(100);
    expect(waited).toBeLessThan(600);
    expect(groups[0]!.committed).toEqual([]);
  });
});
