// The Redis configuration: a static redis.conf plus the memory and persistence settings of spec.cache.
import { readFileSync } from 'node:fs';
import type { CacheSpec } from '../../api/v1alpha1/index.js';

const asset = (file: string) => readFileSync(new URL(file, import.meta.url), 'utf8');

const BASE_CONF = asset('./redis.conf');
const PING_SH = asset('./ping.sh');
const START_SH = asset('./start.sh');

/** Where the ConfigMap is mounted in the Redis container. */
export const CONFIG_DIR = '/etc/redis';

/** RDB snapshot points (seconds, changes), Redis' own defaults. */
export const RDB_SAVE_POINTS = [
  [3600, 1],
  [300, 100],
  [60, 10000],
] as const;

export function persistenceLines(persistence: CacheSpec['persistence']): string[] {
  switch (persistence) {
    case 'none':
      return ['save ""', 'appendonly no'];
    case 'rdb':
      return [...RDB_SAVE_POINTS.map(([s, n]) => `save ${s} ${n}`), 'appendonly no'];
    case 'aof':
      // Every write is appended at once and fsynced every second: a crash of the node loses at most about
      // one second of writes. RDB snapshots are off; AOF rewrites start from an RDB preamble.
      return ['save ""', 'appendonly yes', 'appendfsync everysec'];
  }
}

/** The full redis.conf of a cache spec. */
export function redisConf(cache: CacheSpec): string {
  return [
    BASE_CONF.trimEnd(),
    '',
    '# From spec.cache.',
    `maxmemory ${cache.maxMemory}`,
    `maxmemory-policy ${cache.evictionPolicy}`,
    `# persistence: ${cache.persistence}`,
    ...persistenceLines(cache.persistence),
    '',
  ].join('\n');
}

/** The ConfigMap data: redis.conf, the entrypoint that adds the password, and the probe script. */
export const cacheConfigData = (cache: CacheSpec): Record<string, string> => ({
  'redis.conf': redisConf(cache),
  'start.sh': START_SH,
  'ping.sh': PING_SH,
});
