// Kubernetes resource.Quantity values ("500m", "1Gi", "1e3", 2) as numbers, for comparisons.

const SUFFIXES: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The value of a quantity (bytes for memory, cores for CPU), or undefined when it is not one. */
export function quantityValue(quantity: string | number): number | undefined {
  if (typeof quantity === 'number') return quantity;
  const m = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE]([+-]?[0-9]+)|([a-zA-Z]*))$/.exec(quantity);
  if (!m) return undefined;
  const sign = m[1] === '-' ? -1 : 1;
  if (m[3] !== undefined) return sign * Number(m[2]) * 10 ** Number(m[3]);
  const factor = SUFFIXES[m[4] ?? ''];
  return factor === undefined ? undefined : sign * Number(m[2]) * factor;
}
