// Credentials are generated once, from a cryptographic random source, and never regenerated while their
// Secret exists. Values are never logged.
import { randomBytes } from 'node:crypto';
import type { Credentials } from '../builders/types.js';

/** 24 random bytes as 32 URL-safe characters (safe in URLs, my.cnf and shell without quoting). */
export const randomPassword = (): string => randomBytes(24).toString('base64url');

/** Keeps every existing value; generates only what is missing. */
export function completeCredentials(existing: Partial<Credentials>, generate = randomPassword): Credentials {
  return {
    rootPassword: existing.rootPassword ?? generate(),
    replicationPassword: existing.replicationPassword ?? generate(),
    appPassword: existing.appPassword ?? generate(),
    operatorPassword: existing.operatorPassword ?? generate(),
    cachePassword: existing.cachePassword ?? generate(),
  };
}
