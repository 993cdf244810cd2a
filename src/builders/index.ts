// Every desired object of a ScalableApp, in a stable order: the binding first (the pods load it), the data
// tier's credentials, then the data tier, the web tier and how it is exposed, the workers, and the policies.
// Disabled or absent components are simply not in the list.
import { buildBinding } from './binding.js';
import { buildCache } from './cache/index.js';
import { buildCredentialsSecret } from './credentials.js';
import { buildDatabase } from './database/index.js';
import { buildHTTPRoute } from './exposure/httproute.js';
import { buildIngress } from './exposure/ingress.js';
import { buildWebService } from './exposure/service.js';
import { buildCacheNetworkPolicy, buildDatabaseNetworkPolicy } from './policy/network-policy.js';
import { buildWebPdb, buildWorkersPdb } from './policy/pdb.js';
import type { BuildContext, K8sObject } from './types.js';
import { buildWebDeployment } from './web/deployment.js';
import { buildWebHpa } from './web/hpa.js';
import { buildWorkersDeployment } from './workers/deployment.js';
import { buildWorkersHpa } from './workers/hpa.js';

type Builder = (ctx: BuildContext) => K8sObject | K8sObject[] | undefined;

/** The builders in apply order; each returns its object(s), or undefined when its component is off. */
export const BUILDERS: readonly Builder[] = [
  buildBinding,
  buildCredentialsSecret,
  buildCache,
  buildDatabase,
  buildWebDeployment,
  buildWebHpa,
  buildWebService,
  buildIngress,
  buildHTTPRoute,
  buildWorkersDeployment,
  buildWorkersHpa,
  buildWebPdb,
  buildWorkersPdb,
  buildCacheNetworkPolicy,
  buildDatabaseNetworkPolicy,
];

/** All desired objects of the app. Pure: the same context always gives the same list. */
export function buildAll(ctx: BuildContext): K8sObject[] {
  return BUILDERS.flatMap((build) => build(ctx) ?? []);
}

export { bindingChecksum, buildBinding } from './binding.js';
export { bindingSecretName } from './names.js';
export type { BuildContext, Credentials, K8sObject } from './types.js';
export { BuildError } from './types.js';
