// What a spec leaves behind when it ends: its operator stopped and its namespace deleted, unless SAPP_E2E_KEEP=1
// keeps both for a look afterwards (the next run makes a namespace of its own).
import { deleteNamespace } from '../../test/harness/cluster.js';
import type { RunningOperator } from './operator.js';

/** SAPP_E2E_KEEP=1: leave the operator running and the namespace in place. */
export const keeping = () => process.env.SAPP_E2E_KEEP === '1';

/** Stops the spec's operator, if it started one and nothing is kept; a failed stop goes to `onError` (ignored). */
export async function stopOperator(
  op: RunningOperator | undefined,
  onError: (err: unknown) => void = () => undefined,
): Promise<void> {
  if (op && !keeping()) await op.stop().catch(onError);
}

/** Deletes the spec's namespace (without waiting for it to go), if it made one and nothing is kept. */
export function dropNamespace(ns: string | undefined): void {
  if (ns && !keeping()) deleteNamespace(ns);
}
