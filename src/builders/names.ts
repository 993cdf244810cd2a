// Object names: DNS-1123, at most 63 characters, stable, with a hash suffix when they must be cut.
import { createHash } from 'node:crypto';

export const MAX_NAME = 63;
/** StatefulSet pods carry a controller-revision-hash label of `<name>-<10 chars>`; keep StatefulSet names short. */
export const MAX_STATEFULSET_NAME = 52;

const HASH_LEN = 8;

const shortHash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, HASH_LEN);

/**
 * Joins parts into a DNS-1123 label of at most `max` characters. Names that fit are returned as they are;
 * longer ones are cut and given a hash of the full name, so different long names stay different and stable.
 */
export function dnsName(parts: readonly string[], max = MAX_NAME): string {
  const full = parts
    .filter((p) => p !== '')
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (full.length <= max) return full;
  const hash = shortHash(full);
  const head = full.slice(0, max - HASH_LEN - 1).replace(/-+$/, '');
  return `${head}-${hash}`;
}
