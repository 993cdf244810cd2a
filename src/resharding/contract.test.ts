// The shop is its own image and keeps a copy of the contract's names: the two must not drift apart.
import { describe, expect, it } from '@jest/globals';
import * as shop from '../../examples/shop-app/src/contract.js';
import * as operator from './contract.js';

describe("the shop's copy of the resharding contract", () => {
  it.each([
    'SHARD_MAP_TABLE',
    'BUCKET_FENCE_TABLE',
    'SHARD_BUCKET_COLUMN',
    'OPERATOR_TABLE_PREFIX',
    'MAIN_OWNER',
    'BUCKET_STATES',
    'DEFAULT_SHARD_MAP_MAX_AGE_MS',
    'DEFAULT_SHARD_MAP_REFRESH_MS',
    'AUTO_INCREMENT_INCREMENT',
    'READ_SHARD_MAP_SQL',
    'CHECK_FENCE_SQL',
  ] as const)('%s is the operator’s', (name) => {
    expect(shop[name]).toEqual(operator[name]);
  });
});
