import { describe, expect, it } from '@jest/globals';
import { buildContext } from '../../test/fixtures/build-context.js';
import { withName } from '../../test/fixtures/scalable-app.js';
import { cacheEndpoint, formatEndpoint } from './endpoints.js';
import {
  cacheServiceName,
  databasePrimaryServiceName,
  databaseReplicasServiceName,
  shardPrimaryServiceName,
  shardReplicasServiceName,
} from './names.js';

describe('data tier Service names', () => {
  const { app } = buildContext();

  it.each([
    ['Redis', cacheServiceName(app), 'shop-cache'],
    ['database writes', databasePrimaryServiceName(app), 'shop-db-primary'],
    ['database reads', databaseReplicasServiceName(app), 'shop-db-replicas'],
    ['shard 3 writes', shardPrimaryServiceName(app, 3), 'shop-db-shard-3-primary'],
    ['shard 3 reads', shardReplicasServiceName(app, 3), 'shop-db-shard-3-replicas'],
  ])('%s: %s', (_what, name, expected) => {
    expect(name).toBe(expected);
  });

  it('the cache endpoint is the Service on 6379', () => {
    expect(formatEndpoint(cacheEndpoint(app))).toBe('shop-cache:6379');
  });

  it('long app names give distinct DNS labels of at most 63 characters per shard', () => {
    const long = buildContext(withName('a'.repeat(60))).app;
    const names = [0, 1].flatMap((i) => [
      shardPrimaryServiceName(long, i),
      shardReplicasServiceName(long, i),
    ]);
    expect(new Set(names).size).toBe(4);
    for (const name of names) expect(name).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
  });
});
