// Environment of the app's containers (web and workers): the pod's own identity, the user's variables, and the
// binding Secret loaded whole with envFrom.
import type { V1EnvFromSource, V1EnvVar, V1EnvVarSource } from '@kubernetes/client-node';
import type { ScalableApp, WebSpec } from '../../api/v1alpha1/index.js';
import { needsBinding } from '../binding.js';
import { bindingSecretName } from '../names.js';
import { BuildError } from '../types.js';

type UserEnv = WebSpec['env'];

const fieldRef = (name: string, fieldPath: string): V1EnvVar => ({
  name,
  valueFrom: { fieldRef: { fieldPath } },
});

/** Variables every app container gets; a user variable of the same name replaces them. */
const downwardEnv = (): V1EnvVar[] => [
  fieldRef('POD_NAME', 'metadata.name'),
  fieldRef('POD_NAMESPACE', 'metadata.namespace'),
];

/**
 * POD_NAME and POD_NAMESPACE, then the user's variables (which may refer to them as `$(POD_NAME)`).
 * Throws a BuildError naming `field[i].name` for a duplicate name: env is a map keyed by name in server-side
 * apply, so a duplicate would make every apply fail.
 */
export function containerEnv(userEnv: UserEnv, field: string): V1EnvVar[] {
  const seen = new Set<string>();
  userEnv.forEach((v, i) => {
    if (seen.has(v.name)) {
      throw new BuildError(`${field}[${i}].name`, `duplicate environment variable ${v.name}`);
    }
    seen.add(v.name);
  });
  const user = userEnv.map((v): V1EnvVar => ({
    name: v.name,
    ...(v.value !== undefined ? { value: v.value } : {}),
    ...(v.valueFrom !== undefined ? { valueFrom: v.valueFrom as V1EnvVarSource } : {}),
  }));
  return [...downwardEnv().filter((v) => !seen.has(v.name)), ...user];
}

/** `envFrom` the binding Secret, or undefined when no data tier component is enabled. */
export const bindingEnvFrom = (app: ScalableApp): V1EnvFromSource[] | undefined =>
  needsBinding(app) ? [{ secretRef: { name: bindingSecretName(app) } }] : undefined;
