// What a request to the API server is, in words bounded enough for a metric's labels: its verb (a dry run is
// told apart from the write it rehearses) and the resource it addresses (the plural, with its subresource), never
// a namespace or a name.
import type { Verb } from './client.js';

export interface RequestKind {
  /** GET, LIST, POST, PUT, PATCH, DELETE, or one of the writes with ` (dry run)`. */
  verb: string;
  /** e.g. `deployments`, `scalableapps/status`, `events`; `other` for a path that is not a resource's. */
  resource: string;
}

/**
 * `/api/v1/namespaces/ns/secrets/name` → secrets; `/apis/group/version/namespaces/ns/plural/name/status` →
 * plural/status; cluster-scoped and collection paths alike.
 */
export function requestKind(verb: Verb, path: string, dryRun: boolean): RequestKind {
  const parts = path.split('?')[0]!.split('/').filter(Boolean);
  const rest = parts[0] === 'api' ? parts.slice(2) : parts[0] === 'apis' ? parts.slice(3) : undefined;
  const scoped = rest?.[0] === 'namespaces' && rest.length > 2 ? rest.slice(2) : rest;
  const [plural, , subresource] = scoped ?? [];
  return {
    verb: dryRun && verb !== 'GET' && verb !== 'LIST' ? `${verb} (dry run)` : verb,
    resource: plural ? (subresource ? `${plural}/${subresource}` : plural) : 'other',
  };
}
