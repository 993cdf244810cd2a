// The data tier as the operator builds it, for the real-server tests: a parsed app, its objects, and the
// credentials Secret's passwords (with quotes, backslashes and spaces, to prove the scripts escape them).
import { parseScalableApp } from '../../src/api/v1alpha1/parse.js';
import type { ScalableApp } from '../../src/api/v1alpha1/index.js';
import { buildBinding } from '../../src/builders/binding.js';
import { buildCredentialsSecret } from '../../src/builders/credentials.js';
import { buildDatabase } from '../../src/builders/database/index.js';
import type { BuildContext, Credentials, K8sObject } from '../../src/builders/types.js';
import { type Modifier, scalableApp } from '../fixtures/scalable-app.js';

export const CREDENTIALS: Credentials = {
  rootPassword: `r00t 'pw' "x" \\ $HOME #1`,
  replicationPassword: `repl\\'; DROP USER root; -- "`,
  appPassword: `app pw's "quoted" \\n`,
  cachePassword: 'cache-secret',
  operatorPassword: `op pw 'q' "d" \\ $x`,
};

export function context(...mods: Modifier[]): BuildContext {
  const parsed = parseScalableApp(scalableApp(...mods));
  if (!parsed.ok) throw new Error(parsed.message);
  return { app: parsed.value, credentials: CREDENTIALS };
}

export interface BuiltDatabase {
  app: ScalableApp;
  /** The binding Secret (where the pods' secretKeyRefs point) and the database objects. */
  objects: K8sObject[];
}

export function builtDatabase(...mods: Modifier[]): BuiltDatabase {
  const ctx = context(...mods);
  const binding = buildBinding(ctx);
  if (!binding) throw new Error('a database app has a binding Secret');
  return { app: ctx.app, objects: [binding, ...buildCredentialsSecret(ctx), ...buildDatabase(ctx)] };
}
