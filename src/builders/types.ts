// What every builder shares: the input (a parsed ScalableApp plus context the operator reads from the cluster)
// and the output (plain Kubernetes objects, ready for server-side apply).
import type { ScalableApp } from '../api/v1alpha1/index.js';

/** Credentials of the data tier, kept in the binding Secret and generated once by the operator (not here). */
export interface Credentials {
  /** MySQL root password. */
  rootPassword: string;
  /** Password of the replication user. */
  replicationPassword: string;
  /** Password of the application user. */
  appPassword: string;
  /** Password of the operator's own account on every database server (failover: read state, fence, promote). */
  operatorPassword: string;
  /** Redis `requirepass`: the password every cache client sends with AUTH. */
  cachePassword: string;
}

export interface BuildContext {
  /** The app, parsed and defaulted by the zod schema, with metadata.name/namespace/uid set. */
  app: ScalableApp;
  credentials: Credentials;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: boolean;
  blockOwnerDeletion: boolean;
}

/** A desired object: what a builder returns and the operator applies. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** The error builders throw for an invariant the schema could not express; the message names the field. */
export class BuildError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'BuildError';
  }
}
