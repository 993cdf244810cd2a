import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { ER_NO_SUCH_TABLE, READ_SHARD_MAP_SQL } from './contract.js';
import {
  parseShardMap,
  readShardMapRow,
  type ShardMapClientOptions,
  ShardMapClient,
  type ShardMapRow,
  staticShardMap,
} from './shard-map.js';
import { shardMap } from './shards.js';

const BUCKETS = 8;
const row = (version: number, owners: number[], moving: number[] = []): ShardMapRow => ({
  version,
  owners: owners.join(','),
  moving: moving.join(','),
});

describe('parseShardMap', () => {
  it('reads the version, every owner (-1 the main database) and the moving buckets', () => {
    const map = parseShardMap({ version: '7', owners: '-1,0,1,1,0,-1,2,0', moving: '3, 6' }, BUCKETS);
    expect(map).toEqual({
      version: 7,
      owners: [-1, 0, 1, 1, 0, -1, 2, 0],
      moving: new Set([3, 6]),
      source: 'table',
    });
    expect(parseShardMap(row(1, new Array(BUCKETS).fill(0)), BUCKETS).moving.size).toBe(0);
  });

  it.each([
    ['too few owners', row(1, [0, 0, 0]), /3 owners, expected one for each of 8 buckets/],
    ['an owner below -1', row(1, [0, 0, -2, 0, 0, 0, 0, 0]), /bucket 2 has a bad owner/],
    ['an owner that is not a number', { version: 1, owners: '0,0,0,x,0,0,0,0', moving: '' }, /bucket 3/],
    [
      'a moving bucket out of range',
      row(1, new Array(BUCKETS).fill(0), [8]),
      /moving lists a bad bucket \(8\)/,
    ],
    ['a negative version', { version: -1, owners: '0,0,0,0,0,0,0,0', moving: '' }, /bad version/],
  ])('rejects a map with %s', (_case, bad, message) => {
    expect(() => parseShardMap(bad, BUCKETS)).toThrow(message);
  });
});

describe('staticShardMap', () => {
  it('is the binding’s shard map, or all the main database when it has no shards', () => {
    expect(staticShardMap(3, 1024).owners).toEqual(shardMap(3, 1024));
    expect(staticShardMap(0, BUCKETS).owners).toEqual(new Array(BUCKETS).fill(-1));
    expect(staticShardMap(2, BUCKETS)).toMatchObject({ version: 0, source: 'static', moving: new Set() });
  });
});

describe('readShardMapRow', () => {
  it('reads the row with the contract’s statement; no table means no row', async () => {
    const asked: string[] = [];
    const found = await readShardMapRow({
      rows: async <T>(sql: string) => {
        asked.push(sql);
        return [row(3, [0])] as T[];
      },
    });
    expect(found).toEqual(row(3, [0]));
    expect(asked).toEqual([READ_SHARD_MAP_SQL]);
    const missing = Object.assign(new Error("Table 'shop._sapp_shard_map' doesn't exist"), {
      errno: ER_NO_SUCH_TABLE,
    });
    await expect(readShardMapRow({ rows: () => Promise.reject(missing) })).resolves.toBeUndefined();
    const down = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    await expect(readShardMapRow({ rows: () => Promise.reject(down) })).rejects.toBe(down);
  });
});

/** A client over a scripted map table and a clock the test moves. */
function scripted(options: Partial<ShardMapClientOptions> = {}) {
  let now = 1_000;
  let table: ShardMapRow | undefined | Error = row(1, new Array(BUCKETS).fill(0));
  const reads: { at: number; finish: () => void }[] = [];
  let instant = true;
  const client = new ShardMapClient(
    () => {
      const answer = table;
      const result = () => (answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer));
      if (instant) {
        reads.push({ at: now, finish: () => {} });
        return result();
      }
      return new Promise((resolve, reject) => {
        reads.push({ at: now, finish: () => result().then(resolve, reject) });
      });
    },
    {
      buckets: BUCKETS,
      shardCount: 2,
      maxAgeMs: 2_000,
      refreshMs: 500,
      log: pino({ level: 'silent' }),
      now: () => now,
      ...options,
    },
  );
  return {
    client,
    reads,
    tick: (ms: number) => (now += ms),
    setTable: (t: typeof table) => (table = t),
    hold: () => (instant = false),
  };
}

describe('ShardMapClient', () => {
  it('knows the age of its read from when the read started, and reads again before use past the max age', async () => {
    const { client, reads, tick, setTable } = scripted();
    expect(client.age()).toBe(Infinity);
    expect((await client.current()).version).toBe(1);
    tick(1_999);
    expect(client.age()).toBe(1_999);
    setTable(row(2, new Array(BUCKETS).fill(1)));
    expect((await client.current()).version).toBe(1); // young enough: no read
    expect(reads).toHaveLength(1);
    tick(2);
    expect((await client.current()).version).toBe(2); // 2,001 ms: read again first
    expect(reads).toHaveLength(2);
    expect(client.age()).toBe(0);
  });

  it('falls back to the static map while the table does not exist, and takes the table once it appears', async () => {
    const { client, tick, setTable } = scripted();
    setTable(undefined);
    expect(await client.refresh()).toEqual(staticShardMap(2, BUCKETS));
    tick(10);
    setTable(row(4, [-1, -1, 0, 0, 1, 1, 2, 2], [6, 7]));
    expect(await client.refresh()).toMatchObject({ version: 4, source: 'table', moving: new Set([6, 7]) });
  });

  it('keeps the map in hand when a read fails, and fails a use once that map is too old', async () => {
    const { client, tick, setTable } = scripted();
    await client.current();
    const down = new Error('primary is unavailable');
    setTable(down);
    tick(600);
    await expect(client.refresh()).rejects.toBe(down);
    expect(client.peek()?.version).toBe(1);
    expect((await client.current()).version).toBe(1); // 600 ms old: still usable
    tick(1_500);
    await expect(client.current()).rejects.toBe(down); // 2,100 ms old: must be read again, and cannot
  });

  it('shares a read among callers, and a forced refresh never takes a read that started before it', async () => {
    const { client, reads, tick, setTable, hold } = scripted();
    hold();
    const first = client.refresh();
    const together = client.refresh(); // asked at the same instant the read started: shares it
    expect(reads).toHaveLength(1);
    tick(5);
    setTable(row(2, new Array(BUCKETS).fill(1)));
    const later = client.refresh(); // asked after the read started: waits for it, then reads again
    const alsoLater = client.refresh();
    expect(reads).toHaveLength(1);
    reads[0]!.finish();
    expect((await first).version).toBe(1);
    expect((await together).version).toBe(1);
    await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(reads).toHaveLength(2);
    expect(reads[1]!.at).toBe(1_005);
    reads[1]!.finish();
    expect((await later).version).toBe(2);
    expect((await alsoLater).version).toBe(2);
  });

  it('polls every refreshMs after start until stop', async () => {
    const { client, reads } = scripted({ refreshMs: 20, now: () => performance.now() });
    await client.start();
    await new Promise((resolve) => setTimeout(resolve, 130));
    client.stop();
    const polled = reads.length;
    expect(polled).toBeGreaterThanOrEqual(4);
    expect(polled).toBeLessThanOrEqual(8);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(reads.length).toBe(polled);
  });
});
