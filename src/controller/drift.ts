// Decides whether applying a desired object would change the live one, so a no-op reconcile makes no write.
// Two checks: (1) every field of the desired object is present and equal in the live object (quantities and
// numbers compared by value, server-added fields ignored); (2) every field our field manager owns in the live
// object is still desired: otherwise the apply must run to remove it (e.g. spec.replicas once an HPA takes over).

import { quantityValue } from '../api/quantity.js';

type Json = unknown;

function scalarEqual(desired: Json, live: Json): boolean {
  if (desired === live) return true;
  if (
    (typeof desired === 'number' || typeof desired === 'string') &&
    (typeof live === 'number' || typeof live === 'string')
  ) {
    if (String(desired) === String(live)) return true;
    const a = typeof desired === 'number' ? desired : quantityValue(desired);
    const b = typeof live === 'number' ? live : quantityValue(live);
    return a !== undefined && b !== undefined && Math.abs(a - b) <= Math.abs(a) * 1e-12;
  }
  return false;
}

const isObject = (v: Json): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isEmpty = (v: Json) =>
  (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);

/** True when `desired` is contained in `live`; returns the first differing path otherwise. */
export function firstDifference(desired: Json, live: Json, path = ''): string | undefined {
  if (isObject(desired)) {
    if (live === undefined && isEmpty(desired)) return undefined;
    if (!isObject(live)) return path || '.';
    for (const [k, v] of Object.entries(desired)) {
      if (v === undefined) continue;
      const d = firstDifference(v, live[k], `${path}.${k}`);
      if (d) return d;
    }
    return undefined;
  }
  if (Array.isArray(desired)) {
    if (live === undefined && desired.length === 0) return undefined;
    if (!Array.isArray(live) || live.length !== desired.length) return path;
    for (let i = 0; i < desired.length; i++) {
      const d = firstDifference(desired[i], live[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  return scalarEqual(desired, live) ? undefined : path;
}

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  subresource?: string;
  fieldsV1?: Record<string, Json>;
}

/**
 * Paths of the object fields (not list items) that `manager` owns by apply, from managedFields' fieldsV1:
 * `f:name` keys descend into objects; lists (`k:`, `v:`, `i:` keys) are compared whole by the content check.
 */
export function ownedFieldPaths(
  managedFields: ManagedFieldsEntry[] | undefined,
  manager: string,
): string[][] {
  const out: string[][] = [];
  const walk = (node: Record<string, Json>, path: string[]) => {
    const fields = Object.keys(node).filter((k) => k.startsWith('f:'));
    const hasItems = Object.keys(node).some((k) => /^[kvi]:/.test(k));
    if (fields.length === 0 || hasItems) {
      if (path.length) out.push(path);
      return;
    }
    for (const f of fields) {
      const child = node[f];
      walk(isObject(child) ? child : {}, [...path, f.slice(2)]);
    }
  };
  for (const entry of managedFields ?? []) {
    if (entry.manager !== manager || entry.operation !== 'Apply' || entry.subresource) continue;
    walk(entry.fieldsV1 ?? {}, []);
  }
  return out;
}

/** Field keys may contain dots (label keys, file names), so paths are lists of keys. */
function hasPath(obj: Json, path: readonly string[]): boolean {
  let node = obj;
  for (const key of path) {
    if (!isObject(node) || !(key in node) || node[key] === undefined) return false;
    node = node[key];
  }
  return true;
}

export interface DriftResult {
  changed: boolean;
  /** Why an apply is needed, for logs: the first differing or no-longer-desired path. */
  reason?: string;
}

export function drift(
  desired: Record<string, Json>,
  live: Record<string, Json> | undefined,
  manager: string,
): DriftResult {
  if (!live) return { changed: true, reason: 'absent' };
  const diff = firstDifference(desired, live);
  if (diff) return { changed: true, reason: `differs at ${diff}` };
  const metadata = isObject(live.metadata) ? live.metadata : {};
  for (const path of ownedFieldPaths(metadata.managedFields as ManagedFieldsEntry[] | undefined, manager)) {
    if (!hasPath(desired, path)) return { changed: true, reason: `no longer desired: .${path.join('.')}` };
  }
  return { changed: false };
}
