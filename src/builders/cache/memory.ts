// Memory sizes in the two notations the cache spec mixes: Redis (maxmemory 256mb) and Kubernetes (512Mi).

const REDIS_UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  kb: 1024,
  m: 1e6,
  mb: 1024 ** 2,
  g: 1e9,
  gb: 1024 ** 3,
};

/** Bytes of a Redis memory size: `k`, `m`, `g` are powers of 1000, `kb`, `mb`, `gb` powers of 1024. */
export function redisBytes(size: string): number | undefined {
  const m = /^([0-9]+)([kmg]b?)?$/i.exec(size);
  const unit = REDIS_UNITS[(m?.[2] ?? '').toLowerCase()];
  return m && unit !== undefined ? Number(m[1]) * unit : undefined;
}

const QUANTITY_SUFFIXES: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  Pi: 1024 ** 5,
  Ei: 1024 ** 6,
};

/** Bytes of a Kubernetes memory quantity (512Mi, 1G, 1.5Gi, 1e9, 268435456). */
export function quantityBytes(quantity: string | number): number | undefined {
  if (typeof quantity === 'number') return quantity;
  const m = /^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE]([+-]?[0-9]+)|([a-zA-Z]*))$/.exec(quantity);
  if (!m) return undefined;
  if (m[2] !== undefined) return Number(m[1]) * 10 ** Number(m[2]);
  const factor = QUANTITY_SUFFIXES[m[3] ?? ''];
  return factor === undefined ? undefined : Number(m[1]) * factor;
}
