// The resources of a container: the spec's requests and limits in the Kubernetes shape.
import type { V1ResourceRequirements } from '@kubernetes/client-node';

type ResourceList = Record<string, string | number>;

const quantities = (list: ResourceList | undefined) =>
  list && Object.fromEntries(Object.entries(list).map(([k, v]) => [k, String(v)]));

/** The spec's resources in the container shape (quantities as strings, as the API returns them); undefined
 * when the spec sets none. */
export function resourceRequirements(
  resources: { requests?: ResourceList | undefined; limits?: ResourceList | undefined } | undefined,
): V1ResourceRequirements | undefined {
  if (!resources) return undefined;
  const requests = quantities(resources.requests);
  const limits = quantities(resources.limits);
  return { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) };
}
