// Parsing a ScalableApp with the API's zod schema, with messages that name the field.
import { z } from 'zod';
import { scalableApp, type ScalableApp } from './index.js';

export interface FieldError {
  /** Dotted path from the object root, e.g. spec.web.autoscaling.minReplicas. */
  path: string;
  message: string;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; errors: FieldError[]; message: string };

const formatPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
    '',
  );

/** Flattens a zod error into field errors; union failures report their most specific branch. */
export function fieldErrors(error: z.ZodError, prefix: readonly PropertyKey[] = []): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Report the branch that got furthest (most issues share the longest path), e.g. the quantity regex.
      const branch = issue.errors.find((b) => b.some((i) => i.code !== 'invalid_type')) ?? issue.errors[0]!;
      for (const sub of branch)
        out.push({ path: formatPath([...prefix, ...issue.path, ...sub.path]), message: sub.message });
      continue;
    }
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ path: formatPath([...prefix, ...issue.path, key]), message: 'unknown field' });
      }
      continue;
    }
    out.push({ path: formatPath([...prefix, ...issue.path]), message: issue.message });
  }
  return out;
}

export const formatErrors = (errors: readonly FieldError[]): string =>
  errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; ');

function toResult<T>(result: z.ZodSafeParseResult<T>, prefix: readonly PropertyKey[]): ParseResult<T> {
  if (result.success) return { ok: true, value: result.data };
  const errors = fieldErrors(result.error, prefix);
  return { ok: false, errors, message: formatErrors(errors) };
}

/** Parses a whole ScalableApp object (as read from the API server or a file), applying defaults. */
export const parseScalableApp = (obj: unknown): ParseResult<ScalableApp> =>
  toResult(scalableApp.safeParse(obj), []);
