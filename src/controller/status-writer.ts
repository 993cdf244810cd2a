// Writing a ScalableApp's status: a server-side apply of the status subresource, made only when the status
// differs from the stored one (a no-op pass writes nothing).
import type { ScalableAppStatus } from '../api/v1alpha1/index.js';
import { FIELD_MANAGER } from '../builders/meta.js';
import type { KubeClient } from '../kube/client.js';
import { SCALABLE_APP, objectPath } from '../kube/resources.js';
import { APPLY_PATCH } from './apply.js';

export interface StoredApp {
  metadata?: { namespace?: string; name?: string };
  status?: ScalableAppStatus;
}

/** Applies `status` unless the app already has it; returns whether it wrote. */
export async function writeStatus(
  client: KubeClient,
  app: StoredApp,
  status: ScalableAppStatus,
): Promise<boolean> {
  if (sameJson(status, app.status ?? {})) return false;
  const { namespace, name } = app.metadata as { namespace: string; name: string };
  await client.request('PATCH', `${objectPath(SCALABLE_APP, namespace, name)}/status`, {
    query: { fieldManager: FIELD_MANAGER, force: true },
    contentType: APPLY_PATCH,
    body: {
      apiVersion: SCALABLE_APP.apiVersion,
      kind: SCALABLE_APP.kind,
      metadata: { name, namespace },
      status,
    },
  });
  return true;
}

/** Deep equality of JSON values regardless of key order (the API server does not keep ours). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]))
    );
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return (
    ka.length === kb.length &&
    ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}
