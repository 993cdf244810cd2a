// The shard map: a key hashes to one of SHARD_BUCKETS virtual buckets, and the map assigns every bucket to a
// shard. The operator publishes the bucket count in the binding; the app imports shardForKey to route a key.

/** Virtual buckets the shard map assigns to shards; the app hashes a key to a bucket, the map names the shard. */
export const SHARD_BUCKETS = 1024;

const utf8 = new TextEncoder();

/**
 * A stable 32-bit hash of a key: FNV-1a over the UTF-8 bytes, then the murmur3 finalizer so that every bit
 * (and so `hash % buckets`) depends on every byte. Numbers hash as their decimal string: 42 and '42' agree.
 * Pinned by tests: changing it moves every key to another shard.
 */
export function hashKey(key: string | number): number {
  if (typeof key === 'number' && !Number.isFinite(key)) {
    throw new RangeError(`shard key must be a string or a finite number, got ${key}`);
  }
  let h = 0x811c9dc5;
  for (const byte of utf8.encode(String(key))) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function checkBuckets(buckets: number): void {
  if (!Number.isInteger(buckets) || buckets < 1) {
    throw new RangeError(`buckets must be a positive integer, got ${buckets}`);
  }
}

function checkCount(count: number, buckets: number): void {
  checkBuckets(buckets);
  if (!Number.isInteger(count) || count < 1 || count > buckets) {
    throw new RangeError(`shard count must be an integer from 1 to ${buckets} (the buckets), got ${count}`);
  }
}

/** The bucket of a key: `hashKey(key) % buckets`. */
export function bucketForKey(key: string | number, buckets = SHARD_BUCKETS): number {
  checkBuckets(buckets);
  return hashKey(key) % buckets;
}

/**
 * Builds the map for `count` shards by growing it one shard at a time from a single shard: shard k takes
 * floor(buckets / (k + 1)) buckets, each time the highest bucket of the shard that holds the most (the lowest
 * index on ties). So every shard holds floor or ceil of buckets / count, and growing from n to n + 1 shards
 * moves only the buckets the new shard takes; no bucket moves between old shards.
 */
function growMap(count: number, buckets: number): readonly number[] {
  const map = new Array<number>(buckets).fill(0);
  const owned: number[][] = [Array.from({ length: buckets }, (_, b) => b)];
  for (let shard = 1; shard < count; shard++) {
    const taken: number[] = [];
    for (let i = Math.floor(buckets / (shard + 1)); i > 0; i--) {
      let donor = 0;
      for (let s = 1; s < shard; s++) if (owned[s]!.length > owned[donor]!.length) donor = s;
      const bucket = owned[donor]!.pop()!;
      map[bucket] = shard;
      taken.push(bucket);
    }
    owned.push(taken.sort((a, b) => a - b));
  }
  return Object.freeze(map);
}

const maps = new Map<string, readonly number[]>();

function cachedMap(count: number, buckets: number): readonly number[] {
  checkCount(count, buckets);
  const key = `${count}/${buckets}`;
  let map = maps.get(key);
  if (!map) maps.set(key, (map = growMap(count, buckets)));
  return map;
}

/** The shard map: index = bucket, value = shard index (0 .. count - 1). */
export function shardMap(count: number, buckets = SHARD_BUCKETS): number[] {
  return [...cachedMap(count, buckets)];
}

/** The shard that holds `key`: the same shard every time, for every process that uses the same count and buckets. */
export function shardForKey(key: string | number, count: number, buckets = SHARD_BUCKETS): number {
  return cachedMap(count, buckets)[bucketForKey(key, buckets)]!;
}
