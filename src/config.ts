// Operator configuration from environment variables, validated with zod: a bad value stops the process with
// a message naming the variable.
import { hostname } from 'node:os';
import { z } from 'zod';
import { fieldErrors, formatErrors } from './api/v1alpha1/parse.js';

const seconds = (def: number) => z.coerce.number().positive().default(def);
const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** `a,b`: the namespaces to watch (spaces around names allowed, duplicates dropped); empty or unset: all. */
const namespaceList = z
  .string()
  .optional()
  .transform((value, ctx) => {
    if (!value?.trim()) return undefined;
    const names = value.split(',').map((n) => n.trim());
    for (const name of names) {
      if (!DNS_LABEL.test(name)) {
        ctx.addIssue({
          code: 'custom',
          message: `'${name}' is not a namespace name (a DNS-1123 label): give a comma-separated list of namespaces, or nothing to watch all`,
        });
        return z.NEVER;
      }
    }
    return [...new Set(names)];
  });

export const configSchema = z
  .object({
    WATCH_NAMESPACE: namespaceList,
    RESYNC_PERIOD_SECONDS: z.coerce.number().int().min(0).max(86_400).default(600),
    CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
    LEADER_ELECT: bool(true),
    LEASE_NAMESPACE: z.string().min(1).optional(),
    LEASE_NAME: z.string().min(1).default('scalable-app-operator'),
    LEASE_DURATION_SECONDS: seconds(15),
    RENEW_DEADLINE_SECONDS: seconds(10),
    RETRY_PERIOD_SECONDS: seconds(2),
    POD_NAME: z.string().optional(),
    POD_NAMESPACE: z.string().optional(),
    HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    HTTP_HOST: z.string().default('0.0.0.0'),
    LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
    API_QPS: z.coerce.number().positive().default(100),
    API_BURST: z.coerce.number().int().min(1).default(200),
    SHUTDOWN_TIMEOUT_SECONDS: seconds(25),
  })
  .transform((c) => ({
    watchNamespaces: c.WATCH_NAMESPACE,
    /** Every cached ScalableApp is reconciled again this often (0: never), as client-go informers resync. */
    resyncPeriodMs: c.RESYNC_PERIOD_SECONDS * 1000,
    concurrency: c.CONCURRENCY,
    leaderElection: {
      enabled: c.LEADER_ELECT,
      namespace: c.LEASE_NAMESPACE ?? c.POD_NAMESPACE ?? 'default',
      name: c.LEASE_NAME,
      identity: `${c.POD_NAME ?? hostname()}_${process.pid}`,
      leaseDurationMs: c.LEASE_DURATION_SECONDS * 1000,
      renewDeadlineMs: c.RENEW_DEADLINE_SECONDS * 1000,
      retryPeriodMs: c.RETRY_PERIOD_SECONDS * 1000,
    },
    http: { port: c.HTTP_PORT, host: c.HTTP_HOST },
    logLevel: c.LOG_LEVEL,
    api: { qps: c.API_QPS, burst: c.API_BURST },
    shutdownTimeoutMs: c.SHUTDOWN_TIMEOUT_SECONDS * 1000,
  }));

export type Config = z.output<typeof configSchema>;

export type ConfigResult = { ok: true; config: Config } | { ok: false; message: string };

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ConfigResult {
  const known = Object.keys(configSchema.in.shape);
  const picked = Object.fromEntries(known.filter((k) => env[k] !== undefined).map((k) => [k, env[k]]));
  const result = configSchema.safeParse(picked);
  if (result.success) {
    const lease = result.data.leaderElection;
    if (!(lease.leaseDurationMs > lease.renewDeadlineMs && lease.renewDeadlineMs > lease.retryPeriodMs)) {
      return {
        ok: false,
        message:
          'LEASE_DURATION_SECONDS must exceed RENEW_DEADLINE_SECONDS, which must exceed RETRY_PERIOD_SECONDS',
      };
    }
    return { ok: true, config: result.data };
  }
  return { ok: false, message: `invalid configuration: ${formatErrors(fieldErrors(result.error))}` };
}
