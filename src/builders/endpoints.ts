// The ports of the data tier's client Services (their names are in names.ts): one definition that the cache and
// database builders (which create the Services) and the binding (which points the app at them) both import.
import type { ScalableApp } from '../api/v1alpha1/index.js';
import { cacheServiceName } from './names.js';

export const REDIS_PORT = 6379;
export const MYSQL_PORT = 3306;

export interface Endpoint {
  host: string;
  port: number;
}

export const cacheEndpoint = (app: ScalableApp): Endpoint => ({
  host: cacheServiceName(app),
  port: REDIS_PORT,
});

/** `host:port`, as status and logs show an endpoint. */
export const formatEndpoint = (e: Endpoint) => `${e.host}:${e.port}`;
