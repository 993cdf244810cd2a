// The plugin's subcommands over the cluster: each reads what it needs, then formats (status, credentials) or
// hands the terminal to `kubectl exec` (mysql, redis). Exit codes: 0 done, 1 failed, 2 usage error; a session
// exits with its client's code.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import {
  bindingSecretName,
  cacheServiceName,
  credentialsSecretName,
  databasePrimaryServiceName,
} from '../builders/names.js';
import { forNames, type LiveApp } from './app.js';
import {
  type Cluster,
  type ClusterFlags,
  getApp,
  listAppPods,
  openCluster,
  PluginError,
  readSecret,
} from './kube.js';
import { MAIN_GROUP, pickPod, podName, podsOf, databaseGroups } from './pods.js';
import {
  execArgs,
  type KubectlTarget,
  MYSQL_USERS,
  type MysqlUser,
  mysqlSession,
  redisSession,
  type Session,
} from './sessions.js';
import { formatCredentials } from './credentials.js';
import { formatStatus } from './status.js';

export interface PluginIO {
  stdout(text: string): void;
  stderr(text: string): void;
  now(): Date;
  /** Whether standard input is a terminal (a session asks kubectl for one only then). */
  isTTY: boolean;
  /** Runs kubectl with the terminal handed over; resolves with its exit code. */
  runKubectl(args: string[]): Promise<number>;
  /** The cluster for the flags (tests hand in their own). */
  openCluster?(flags: ClusterFlags): Cluster;
}

/** A usage error: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const CLUSTER_OPTIONS = {
  namespace: { type: 'string', short: 'n' },
  context: { type: 'string' },
  kubeconfig: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = Record<string, string | boolean | undefined>;

/** Parses NAME and the options of a command over one app; `--` ends them (the rest goes to the client). */
export function parseAppArgs(
  args: readonly string[],
  extra: ParseArgsOptionsConfig,
): { help: true } | { help: false; name: string; values: Values; rest: string[] } {
  const dash = args.indexOf('--');
  const own = dash < 0 ? [...args] : args.slice(0, dash);
  const rest = dash < 0 ? [] : args.slice(dash + 1);
  let parsed;
  try {
    parsed = parseArgs({
      args: own,
      options: { ...CLUSTER_OPTIONS, ...extra },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
  const values = parsed.values as Values;
  const positionals = parsed.positionals;
  if (values.help) return { help: true };
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length ? `one app name, not ${positionals.join(' ')}` : 'the app name is required',
    );
  return { help: false, name: positionals[0]!, values, rest };
}

const flagsOf = (values: Values): ClusterFlags => ({
  namespace: values.namespace as string | undefined,
  context: values.context as string | undefined,
  kubeconfig: values.kubeconfig as string | undefined,
});

async function withCluster<T>(io: PluginIO, flags: ClusterFlags, fn: (c: Cluster) => Promise<T>): Promise<T> {
  const cluster = (io.openCluster ?? openCluster)(flags);
  try {
    return await fn(cluster);
  } finally {
    await cluster.client.close();
  }
}

export async function statusCommand(args: readonly string[], io: PluginIO, usage: string): Promise<number> {
  const a = parseAppArgs(args, {});
  if (a.help) return (io.stdout(usage), 0);
  return withCluster(io, flagsOf(a.values), async (cluster) => {
    const [app, pods] = await Promise.all([getApp(cluster, a.name), listAppPods(cluster, a.name)]);
    io.stdout(formatStatus({ app, pods, now: io.now() }));
    return 0;
  });
}

/** A component is enabled when the spec has it and does not say `enabled: false` (the CRD defaults it to true). */
const enabled = (component: { enabled?: boolean } | undefined) =>
  component !== undefined && component.enabled !== false;
const hasDatabase = (app: LiveApp) => enabled(app.spec?.database);
const hasCache = (app: LiveApp) => enabled(app.spec?.cache);

export async function credentialsCommand(
  args: readonly string[],
  io: PluginIO,
  usage: string,
): Promise<number> {
  const a = parseAppArgs(args, { show: { type: 'boolean' } });
  if (a.help) return (io.stdout(usage), 0);
  return withCluster(io, flagsOf(a.values), async (cluster) => {
    const app = await getApp(cluster, a.name);
    if (!hasDatabase(app) && !hasCache(app)) {
      io.stdout(
        `${a.name} has neither a database nor a cache: it has no connection settings or passwords.\n`,
      );
      return 0;
    }
    const names = forNames(app);
    const binding = app.status?.bindingSecretName ?? bindingSecretName(names);
    const credentials = credentialsSecretName(names);
    const [bindingValues, credentialValues] = await Promise.all([
      readSecret(cluster, binding),
      readSecret(cluster, credentials),
    ]);
    io.stdout(
      formatCredentials({
        app: a.name,
        namespace: cluster.namespace,
        binding: { name: binding, values: bindingValues },
        credentials: { name: credentials, values: credentialValues },
        show: a.values.show === true,
        databaseService: hasDatabase(app) ? databasePrimaryServiceName(names) : undefined,
        cacheService: hasCache(app) ? cacheServiceName(names) : undefined,
      }),
    );
    return bindingValues && credentialValues ? 0 : 1;
  });
}

async function runSession(
  io: PluginIO,
  flags: ClusterFlags,
  cluster: Cluster,
  session: Session,
): Promise<number> {
  const target: KubectlTarget = {
    kubeconfig: flags.kubeconfig,
    context: flags.context,
    namespace: cluster.namespace,
  };
  io.stderr(`Connecting to pod ${session.pod} (container ${session.container})\n`);
  return io.runKubectl(execArgs(target, session, io.isTTY));
}

export async function mysqlCommand(args: readonly string[], io: PluginIO, usage: string): Promise<number> {
  const a = parseAppArgs(args, {
    replica: { type: 'boolean' },
    shard: { type: 'string' },
    user: { type: 'string', short: 'u' },
  });
  if (a.help) return (io.stdout(usage), 0);
  const user = (a.values.user ?? 'app') as MysqlUser;
  if (!MYSQL_USERS.includes(user))
    throw new UsageError(`--user must be ${MYSQL_USERS.join(' or ')}, not ${user}`);
  const shard = a.values.shard as string | undefined;
  if (shard !== undefined && !/^\d+$/.test(shard))
    throw new UsageError(`--shard takes a shard index, not ${shard}`);
  const flags = flagsOf(a.values);
  return withCluster(io, flags, async (cluster) => {
    const [app, pods] = await Promise.all([getApp(cluster, a.name), listAppPods(cluster, a.name)]);
    if (!hasDatabase(app)) throw new PluginError(`${a.name} has no database`);
    const group = shard ?? MAIN_GROUP;
    const groupPods = databaseGroups(pods).get(group);
    if (!groupPods) {
      const count = app.status?.database?.shards?.length ?? 0;
      throw new PluginError(
        shard === undefined
          ? `${a.name} has no database pods yet`
          : `${a.name} has no shard ${shard} (shards: ${count ? `0..${count - 1}` : 'none'})`,
      );
    }
    const db = app.status?.database;
    const recordedPrimary =
      shard === undefined ? db?.primary.pod : db?.shards?.find((s) => String(s.index) === shard)?.primaryPod;
    const pod = pickPod({
      pods: groupPods,
      want: a.values.replica ? 'replica' : 'primary',
      recordedPrimary,
      what: shard === undefined ? 'the database' : `shard ${shard}`,
    });
    const engine = db?.engine ?? app.spec?.database?.engine ?? 'mysql';
    return runSession(io, flags, cluster, mysqlSession(podName(pod), engine, user, a.rest));
  });
}

export async function redisCommand(args: readonly string[], io: PluginIO, usage: string): Promise<number> {
  const a = parseAppArgs(args, { replica: { type: 'boolean' } });
  if (a.help) return (io.stdout(usage), 0);
  const flags = flagsOf(a.values);
  return withCluster(io, flags, async (cluster) => {
    const [app, pods] = await Promise.all([getApp(cluster, a.name), listAppPods(cluster, a.name)]);
    if (!hasCache(app)) throw new PluginError(`${a.name} has no cache`);
    const pod = pickPod({
      pods: podsOf(pods, 'cache'),
      want: a.values.replica ? 'replica' : 'primary',
      what: 'the cache',
    });
    return runSession(io, flags, cluster, redisSession(podName(pod), a.rest));
  });
}
