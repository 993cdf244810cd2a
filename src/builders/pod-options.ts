// The user's pod options (`spec.<tier>.pod`) applied to a pod template the operator built: ids, pull secrets,
// scheduling, extra labels and annotations, the service account. Absent options leave the template as it was.
// The operator's labels and annotations always stand: a user key that would replace one is a BuildError
// naming the field (the API refuses them at admission already; this holds for any template and any key).
import type { V1PodSecurityContext, V1PodSpec, V1SecurityContext } from '@kubernetes/client-node';
import type { PodOptions } from '../api/v1alpha1/index.js';
import { BuildError } from './types.js';

/** A tier's pod options and where they sit in the spec, e.g. `spec.web.pod`. */
export interface PodOptionsAt {
  options: PodOptions | undefined;
  field: string;
}

function mergeKeys(
  kind: 'labels' | 'annotations',
  own: Record<string, string> | undefined,
  user: Record<string, string> | undefined,
  field: string,
): Record<string, string> | undefined {
  if (!user || Object.keys(user).length === 0) return own;
  for (const key of Object.keys(user)) {
    if (own && key in own) {
      throw new BuildError(`${field}.${kind}[${key}]`, `is set by the operator and may not be overridden`);
    }
  }
  return { ...user, ...own };
}

/** Template labels: the user's beside the operator's (which may not be overridden). */
export const podLabels = (own: Record<string, string>, { options, field }: PodOptionsAt) =>
  mergeKeys('labels', own, options?.labels, field)!;

/** Template annotations: the user's beside the operator's (which may not be overridden). */
export const podAnnotations = (own: Record<string, string> | undefined, { options, field }: PodOptionsAt) =>
  mergeKeys('annotations', own, options?.annotations, field);

/** The ids the user chose, as securityContext fields (runAsNonRoot and the rest stay the operator's). */
function ids(options: PodOptions | undefined): Pick<V1PodSecurityContext, 'runAsUser' | 'runAsGroup'> {
  const sc = options?.securityContext;
  return {
    ...(sc?.runAsUser !== undefined ? { runAsUser: sc.runAsUser } : {}),
    ...(sc?.runAsGroup !== undefined ? { runAsGroup: sc.runAsGroup } : {}),
  };
}

/** The operator's pod security context with the user's runAsUser, runAsGroup and fsGroup over it. */
export function podSecurityContextWith(
  own: V1PodSecurityContext,
  { options, field }: PodOptionsAt,
): V1PodSecurityContext {
  if (options?.securityContext?.runAsUser === 0) {
    throw new BuildError(`${field}.securityContext.runAsUser`, 'must not be 0: the pods run as non-root');
  }
  const fsGroup = options?.securityContext?.fsGroup;
  return { ...own, ...ids(options), ...(fsGroup !== undefined ? { fsGroup } : {}), runAsNonRoot: true };
}

/** A container security context that names ids (the data tier's) with the user's ids over them. */
export const containerSecurityContextWith = (
  own: V1SecurityContext,
  { options }: PodOptionsAt,
): V1SecurityContext => ({ ...own, ...ids(options) });

/** Pod spec fields the options set; `own` is the operator's affinity, which the user's kinds replace. */
export function podSpecOptions(
  { options }: PodOptionsAt,
  own: { affinity?: V1PodSpec['affinity'] } = {},
): Partial<V1PodSpec> {
  if (!options) return own.affinity ? { affinity: own.affinity } : {};
  const affinity = { ...own.affinity, ...(options.affinity as V1PodSpec['affinity']) };
  return {
    ...(options.serviceAccountName !== undefined ? { serviceAccountName: options.serviceAccountName } : {}),
    ...(options.automountServiceAccountToken !== undefined
      ? { automountServiceAccountToken: options.automountServiceAccountToken }
      : {}),
    ...(options.imagePullSecrets?.length ? { imagePullSecrets: options.imagePullSecrets } : {}),
    ...(options.nodeSelector && Object.keys(options.nodeSelector).length
      ? { nodeSelector: options.nodeSelector }
      : {}),
    ...(options.tolerations?.length ? { tolerations: options.tolerations } : {}),
    ...(Object.keys(affinity).length ? { affinity } : {}),
  };
}
