// Memory sizes in the two notations the cache spec mixes: Redis (maxmemory 256mb) and Kubernetes (512Mi).
import { quantityValue } from '../../api/quantity.js';

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

/** Bytes of a Kubernetes memory quantity (512Mi, 1G, 1.5Gi, 1e9, 268435456). */
export const quantityBytes = (quantity: string | number): number | undefined => quantityValue(quantity);
