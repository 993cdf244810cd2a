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
  const segments = difference(desired, live);
  if (!segments) return undefined;
  const at = path + segments.reverse().join('');
  return at || (isObject(desired) ? '.' : at);
}

/**
 * Where `live` differs from `desired`: the path's segments, innermost first; undefined when it does not. Runs on
 * every desired object of every pass, so the common case (no difference) allocates nothing.
 */
function difference(desired: Json, live: Json): string[] | undefined {
  if (isObject(desired)) {
    if (live === undefined && isEmpty(desired)) return undefined;
    if (!isObject(live)) return [];
    for (const k in desired) {
      const v = desired[k];
      if (v === undefined) continue;
      const d = difference(v, live[k]);
      if (d) return (d.push(`.${k}`), d);
    }
    return undefined;
  }
  if (Array.isArray(desired)) {
    if (live === undefined && desired.length === 0) return undefined;
    if (!Array.isArray(live) || live.length !== desired.length) return [];
    for (let i = 0; i < desired.length; i++) {
      const d = difference(desired[i], live[i]);
      if (d) return (d.push(`[${i}]`), d);
    }
    return undefined;
  }
  return scalarEqual(desired, live) ? undefined : [];
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
  if (!managedFields) return [];
  // A cached object is read by every pass until it changes: its paths are worked out once.
  const known = ownedPathsOf.get(managedFields)?.get(manager);
  if (known) return known;
  const paths = walkOwnedFields(managedFields, manager);
  const byManager = ownedPathsOf.get(managedFields) ?? new Map<string, string[][]>();
  ownedPathsOf.set(managedFields, byManager.set(manager, paths));
  return paths;
}

const ownedPathsOf = new WeakMap<ManagedFieldsEntry[], Map<string, string[][]>>();

function walkOwnedFields(managedFields: ManagedFieldsEntry[], manager: string): string[][] {
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
  for (const entry of managedFields) {
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
