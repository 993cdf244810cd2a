import { describe, expect, it } from '@jest/globals';
import { SHARD_BUCKETS, shardMap } from '../api/sharding.js';
import { newMap, parseMapRow, serializeMap, targetOwners, validateOwners } from './map.js';
import type { Progress } from './progress.js';

const progress: Progress = {
  fromCount: 2,
  toCount: 3,
  batchBuckets: 16,
  batch: 4,
  step: 'copy',
  current: { buckets: [682, 683], from: 0, to: 2 },
  totalBuckets: 341,
  movedBuckets: 64,
  startedAt: 1_764_580_000_000,
  pausedAt: 1_764_580_001_000,
};

describe('targetOwners', () => {
  it('is the static map of the count, and every bucket on main (-1) for 0', () => {
    expect(targetOwners(3)).toEqual(shardMap(3));
    expect(targetOwners(0)).toEqual(new Array(SHARD_BUCKETS).fill(-1));
  });
});

describe('the map row', () => {
  it('round-trips: serialize, then parse the columns as the driver returns them', () => {
    const map = { version: 7, owners: shardMap(2), moving: [683, 682], progress };
    const cols = serializeMap(map);
    expect(cols.moving).toBe('682,683');
    expect(cols.owners.split(',')).toHaveLength(SHARD_BUCKETS);
    expect(parseMapRow({ ...cols, version: String(cols.version) })).toEqual({ ...map, moving: [682, 683] });
  });

  it('a new map: version 1, the static owners, nothing moving, no progress', () => {
    expect(serializeMap(newMap(2))).toEqual({
      version: 1,
      owners: shardMap(2).join(','),
      moving: '',
      progress: '',
    });
    expect(newMap(0).owners.every((o) => o === -1)).toBe(true);
  });

  it('tolerates spaces around the comma-separated numbers', () => {
    const owners = shardMap(1).join(', ');
    expect(parseMapRow({ version: 1, owners, moving: ' 3, 1 ', progress: '' }).moving).toEqual([1, 3]);
  });

  const valid = { version: 1, owners: shardMap(2).join(','), moving: '', progress: '' };
  it.each([
    ['a version of 0', { version: 0 }, /version: 0 is not a positive integer/],
    ['too few owners', { owners: '0,1' }, /owners: 2 entries, expected one per bucket \(1024\)/],
    ['an owner that is not a number', { owners: valid.owners.replace(/^0/, 'x') }, /owners: item 0 is "x"/],
    ['an empty owner', { owners: valid.owners.replace(/^0,/, ',') }, /owners: item 0 is ""/],
    ['an owner below -1', { owners: valid.owners.replace(/^0/, '-3') }, /bucket 0 has owner -3/],
    ['a moving bucket out of range', { moving: '1024' }, /moving: bucket 1024 is not 0 to 1023/],
    ['a moving bucket twice', { moving: '5,5' }, /moving: bucket 5 is listed twice/],
    ['progress that is not JSON', { progress: '{' }, /progress is not JSON/],
    [
      'progress with an unknown step',
      { progress: JSON.stringify({ ...progress, step: 'jump' }) },
      /progress is invalid: .*step/s,
    ],
    ['progress without its counts', { progress: '{"step":"pause"}' }, /progress is invalid: .*fromCount/s],
  ])('rejects %s with a message naming it', (_name, change, message) => {
    expect(() => parseMapRow({ ...valid, ...change })).toThrow(message);
  });

  it('validates owners against the shard count when given', () => {
    expect(() => validateOwners(shardMap(3), 2)).toThrow(/has owner 2, expected -1 to 1/);
    expect(() => validateOwners(shardMap(3), 3)).not.toThrow();
  });
});
