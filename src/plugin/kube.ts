// The plugin's view of the cluster: the user's kubeconfig as kubectl reads it (--kubeconfig, else KUBECONFIG,
// else ~/.kube/config; --context, else the current context; -n, else the context's namespace, else "default")
// and the few reads the commands make.
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import { KubeConfig } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../api/v1alpha1/index.js';
import { KubeClient } from '../kube/client.js';
import { ApiError, isNotFound } from '../kube/errors.js';
import type { LiveApp } from './app.js';
import { appPodSelector } from './pods.js';

export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** A message for the user, printed without a stack trace (exit code 1). */
export class PluginError extends Error {
  override name = 'PluginError';
}

export interface Cluster {
  namespace: string;
  client: KubeClient;
}

/** The kubeconfig and namespace kubectl would use with the same flags. */
export function openCluster(flags: ClusterFlags): Cluster {
  const kc = new KubeConfig();
  try {
    if (flags.kubeconfig) kc.loadFromFile(flags.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new PluginError(`cannot load the kubeconfig: ${(err as Error).message}`, { cause: err });
  }
  if (flags.context) {
    if (!kc.getContextObject(flags.context))
      throw new PluginError(`context "${flags.context}" is not in the kubeconfig`);
    kc.setCurrentContext(flags.context);
  }
  if (!kc.getCurrentCluster()) throw new PluginError('the kubeconfig has no current context or cluster');
  const namespace = flags.namespace || kc.getContextObject(kc.getCurrentContext())?.namespace || 'default';
  return { namespace, client: new KubeClient(kc, { timeoutMs: 15_000 }) };
}

/** An API error as a sentence naming what was read. */
function explain(what: string, err: unknown): never {
  if (err instanceof ApiError) {
    throw new PluginError(`cannot read ${what}: ${err.message} (${err.status} ${err.reason})`, {
      cause: err,
    });
  }
  throw new PluginError(`cannot read ${what}: ${(err as Error).message}`, { cause: err });
}

export async function getApp({ client, namespace }: Cluster, name: string): Promise<LiveApp> {
  const path = `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}/${name}`;
  try {
    return await client.request<LiveApp>('GET', path);
  } catch (err) {
    if (isNotFound(err)) {
      const kind =
        err instanceof ApiError && err.message.includes('the server could not find')
          ? ' (is the CRD installed?)'
          : '';
      throw new PluginError(`ScalableApp "${name}" not found in namespace "${namespace}"${kind}`, {
        cause: err,
      });
    }
    explain(`ScalableApp ${namespace}/${name}`, err);
  }
}

export async function listAppPods({ client, namespace }: Cluster, name: string): Promise<V1Pod[]> {
  try {
    const list = await client.request<{ items: V1Pod[] }>('LIST', `/api/v1/namespaces/${namespace}/pods`, {
      query: { labelSelector: appPodSelector(name) },
    });
    return list.items;
  } catch (err) {
    explain(`the pods of ${namespace}/${name}`, err);
  }
}

/** A Secret's decoded values, or undefined when it does not exist. */
export async function readSecret(
  { client, namespace }: Cluster,
  name: string,
): Promise<Record<string, string> | undefined> {
  try {
    const secret = await client.request<V1Secret>('GET', `/api/v1/namespaces/${namespace}/secrets/${name}`);
    return Object.fromEntries(
      Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
    );
  } catch (err) {
    if (isNotFound(err)) return undefined;
    explain(`Secret ${namespace}/${name}`, err);
  }
}
