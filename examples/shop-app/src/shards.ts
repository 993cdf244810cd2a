// Which shard holds a customer's orders. It must agree exactly with the shard map the operator publishes
// (src/api/sharding.ts at the repository root; shards.test.ts checks that they agree), but the app is
// its own image and imports nothing from the operator, so it carries its own copy of the rule:
//
//   hash   = FNV-1a 32-bit over the UTF-8 bytes of the key's decimal string, then the murmur3 finalizer
//   bucket = hash mod SHARD_BUCKETS
//   shard  = map[bucket], where the map for n shards is grown one shard at a time from a single shard:
//            shard k takes floor(buckets / (k + 1)) buckets, each time the highest bucket of the shard that
//            holds the most (lowest index on ties). Every shard holds floor/ceil(buckets / n) buckets, and going
//            from n to n + 1 shards moves only the buckets the new shard takes.

const utf8 = new TextEncoder();

/** FNV-1a, 32 bits, over the UTF-8 bytes of `text`. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of utf8.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The key's hash: FNV-1a, then the murmur3 finalizer so that every bit depends on every byte. */
export function hashKey(key: string | number): number {
  if (typeof key === 'number' && !Number.isFinite(key)) throw new RangeError(`bad shard key ${key}`);
  let h = fnv1a32(String(key));
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function checkCounts(count: number, buckets: number): void {
  if (!Number.isInteger(buckets) || buckets < 1) throw new RangeError(`buckets must be >= 1, got ${buckets}`);
  if (!Number.isInteger(count) || count < 1 || count > buckets) {
    throw new RangeError(`shard count must be an integer from 1 to ${buckets} (the buckets), got ${count}`);
  }
}

/** The virtual bucket of a key (a customer id). */
export function bucketForKey(key: string | number, buckets: number): number {
  return hashKey(key) % buckets;
}

function growMap(count: number, buckets: number): number[] {
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
  return map;
}

const maps = new Map<string, readonly number[]>();

function cachedMap(count: number, buckets: number): readonly number[] {
  checkCounts(count, buckets);
  const key = `${count}/${buckets}`;
  let map = maps.get(key);
  if (!map) maps.set(key, (map = Object.freeze(growMap(count, buckets))));
  return map;
}

/** bucket → shard index, for all buckets. */
export function shardMap(count: number, buckets: number): number[] {
  return [...cachedMap(count, buckets)];
}

/** The shard index of a key. */
export function shardForKey(key: string | number, count: number, buckets: number): number {
  return cachedMap(count, buckets)[bucketForKey(key, buckets)]!;
}
