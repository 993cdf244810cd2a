// The app's whole configuration comes from the operator's binding Secret (plus PORT, POD_NAME and the
// CACHE_OBJECTS switch). It is parsed once at start; every error names the variable that is missing or bad.
import { DEFAULT_SHARD_MAP_MAX_AGE_MS, DEFAULT_SHARD_MAP_REFRESH_MS } from './contract.js';

/** Where to connect to one MySQL/MariaDB server, parsed from a `mysql://user:password@host:port/database` URL. */
export interface DatabaseEndpoint {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export interface ShardConfig {
  index: number;
  write: DatabaseEndpoint;
  read: DatabaseEndpoint;
}

export interface Config {
  port: number;
  podName: string | undefined;
  redisUrl: string;
  primary: DatabaseEndpoint;
  replica: DatabaseEndpoint;
  /** Ordered by index, indexes 0..n-1; empty when the database is not sharded (orders live on the primary). */
  shards: ShardConfig[];
  shardBuckets: number;
  /** A shard map read longer ago than this (from the start of the read) is read again before it routes. */
  shardMapMaxAgeMs: number;
  /** How often the shard map is read. */
  shardMapRefreshMs: number;
  /** The object cache (product pages in Redis); CACHE_OBJECTS=off turns it off for benchmarks. */
  cacheObjects: boolean;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(name, 'is required (the operator sets it in the app binding Secret)');
  return value;
}

function integer(variable: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new ConfigError(variable, `must be an integer, got ${JSON.stringify(text)}`);
  const n = Number(text);
  if (n < min || n > max) throw new ConfigError(variable, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** Parses a mysql:// URL; the error never repeats the URL, which holds a password. */
export function parseDatabaseUrl(variable: string, text: string): DatabaseEndpoint {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(variable, 'must be a URL like mysql://user:password@host:3306/database');
  }
  if (url.protocol !== 'mysql:') {
    throw new ConfigError(variable, `must use the mysql:// scheme, got ${url.protocol}//`);
  }
  if (!url.hostname) throw new ConfigError(variable, 'has no host');
  if (!url.username) throw new ConfigError(variable, 'has no user');
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database || database.includes('/')) {
    throw new ConfigError(variable, 'must name one database in its path (mysql://…/database)');
  }
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? integer(`${variable} (port)`, url.port, 1, 65535) : 3306,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database,
  };
}

function parseRedisUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError('REDIS_URL', 'must be a URL like redis://host:6379/0');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError('REDIS_URL', `must use the redis:// or rediss:// scheme, got ${url.protocol}//`);
  }
  if (!url.hostname) throw new ConfigError('REDIS_URL', 'has no host');
  return text;
}

function parseShards(text: string): ShardConfig[] {
  const name = 'DATABASE_SHARDS';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigError(
      name,
      'must be a JSON list like [{"index":0,"writeUrl":"mysql://…","readUrl":"mysql://…"}]',
    );
  }
  if (!Array.isArray(value)) throw new ConfigError(name, 'must be a JSON list ([] when unsharded)');
  const shards = value.map((entry: unknown, i): ShardConfig => {
    const at = `${name}[${i}]`;
    if (typeof entry !== 'object' || entry === null) throw new ConfigError(at, 'must be an object');
    const { index, writeUrl, readUrl } = entry as Record<string, unknown>;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) {
      throw new ConfigError(`${at}.index`, 'must be a non-negative integer');
    }
    if (typeof writeUrl !== 'string') throw new ConfigError(`${at}.writeUrl`, 'must be a mysql:// URL');
    if (typeof readUrl !== 'string') throw new ConfigError(`${at}.readUrl`, 'must be a mysql:// URL');
    return {
      index,
      write: parseDatabaseUrl(`${at}.writeUrl`, writeUrl),
      read: parseDatabaseUrl(`${at}.readUrl`, readUrl),
    };
  });
  shards.sort((a, b) => a.index - b.index);
  shards.forEach((shard, i) => {
    if (shard.index !== i) {
      throw new ConfigError(name, `shard indexes must be 0..${shards.length - 1} without gaps or repeats`);
    }
  });
  return shards;
}

function parseShardMapTimes(env: Env): { shardMapMaxAgeMs: number; shardMapRefreshMs: number } {
  const ms = (name: string, fallback: number, min: number) => {
    const text = env[name]?.trim();
    return text ? integer(name, text, min, 3_600_000) : fallback;
  };
  const shardMapMaxAgeMs = ms('SHARD_MAP_MAX_AGE_MS', DEFAULT_SHARD_MAP_MAX_AGE_MS, 100);
  const shardMapRefreshMs = ms('SHARD_MAP_REFRESH_MS', DEFAULT_SHARD_MAP_REFRESH_MS, 10);
  if (shardMapRefreshMs > shardMapMaxAgeMs) {
    throw new ConfigError(
      'SHARD_MAP_REFRESH_MS',
      `must not exceed SHARD_MAP_MAX_AGE_MS (${shardMapMaxAgeMs}), got ${shardMapRefreshMs}`,
    );
  }
  return { shardMapMaxAgeMs, shardMapRefreshMs };
}

/** Reads and validates the configuration; throws a ConfigError naming the first bad variable. */
export function parseConfig(env: Env): Config {
  const redisUrl = parseRedisUrl(required(env, 'REDIS_URL'));
  const primary = parseDatabaseUrl('DATABASE_WRITE_URL', required(env, 'DATABASE_WRITE_URL'));
  const replica = parseDatabaseUrl('DATABASE_READ_URL', required(env, 'DATABASE_READ_URL'));
  const shards = parseShards(env.DATABASE_SHARDS?.trim() || '[]');
  const bucketsText = env.SHARD_BUCKETS?.trim();
  if (shards.length > 0 && !bucketsText) {
    throw new ConfigError('SHARD_BUCKETS', 'is required when DATABASE_SHARDS lists shards');
  }
  const shardBuckets = bucketsText ? integer('SHARD_BUCKETS', bucketsText, 1, 1 << 20) : 1024;
  if (shards.length > shardBuckets) {
    throw new ConfigError('SHARD_BUCKETS', `must be at least the number of shards (${shards.length})`);
  }
  const cache = (env.CACHE_OBJECTS?.trim() || 'on').toLowerCase();
  if (cache !== 'on' && cache !== 'off') {
    throw new ConfigError('CACHE_OBJECTS', `must be "on" or "off", got ${JSON.stringify(env.CACHE_OBJECTS)}`);
  }
  const { shardMapMaxAgeMs, shardMapRefreshMs } = parseShardMapTimes(env);
  return {
    port: env.PORT?.trim() ? integer('PORT', env.PORT.trim(), 0, 65535) : 8080,
    podName: env.POD_NAME?.trim() || undefined,
    redisUrl,
    primary,
    replica,
    shards,
    shardBuckets,
    shardMapMaxAgeMs,
    shardMapRefreshMs,
    cacheObjects: cache === 'on',
  };
}

/** host:port/database, for logs: never the user or the password. */
export const describeEndpoint = (e: DatabaseEndpoint) => `${e.host}:${e.port}/${e.database}`;
