// The ScalableApp as the plugin reads it from the API server. Read as it is, without the operator's schema: a
// plugin of another version must still show what it can (status fields it does not know are ignored).
import type { ScalableApp, ScalableAppStatus } from '../api/v1alpha1/index.js';

export interface LiveApp {
  metadata: { name: string; namespace: string; generation?: number; deletionTimestamp?: string };
  spec?: {
    database?: { enabled?: boolean; engine?: string };
    cache?: { enabled?: boolean };
    workers?: unknown;
  };
  status?: ScalableAppStatus;
}

/** For the name functions of builders/names.ts, which read only metadata.name. */
export const forNames = (app: LiveApp) => ({ metadata: { name: app.metadata.name } }) as ScalableApp;
