import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { ApiError } from '../kube/errors.js';
import type { KubeClient } from '../kube/client.js';
import type { LiveApp } from './app.js';
import {
  credentialsCommand,
  mysqlCommand,
  parseAppArgs,
  type PluginIO,
  redisCommand,
  UsageError,
} from './commands.js';
import { app, database, pod, ready, role, tier } from './fixtures.js';
import type { ClusterFlags } from './kube.js';
import { PluginError } from './kube.js';
import { MYSQL_SCRIPT } from './sessions.js';

interface Fake {
  app?: LiveApp;
  pods?: V1Pod[];
  secrets?: Record<string, Record<string, string>>;
}

/** A PluginIO over an in-memory API server; records what it printed and the kubectl commands it ran. */
function harness(fake: Fake, { isTTY = true } = {}) {
  const out = {
    stdout: '',
    stderr: '',
    kubectl: [] as string[][],
    flags: [] as ClusterFlags[],
    requests: [] as string[],
  };
  const client = {
    async request(verb: string, path: string, opts: { query?: Record<string, string> } = {}) {
      out.requests.push(
        `${verb} ${path}${opts.query?.labelSelector ? `?labelSelector=${opts.query.labelSelector}` : ''}`,
      );
      if (path.includes('/scalableapps/')) {
        if (!fake.app) throw new ApiError(404, 'NotFound', 'scalableapps.scalable.dev "shop" not found');
        return fake.app;
      }
      if (path.endsWith('/pods')) return { items: fake.pods ?? [] };
      const secret = fake.secrets?.[path.split('/').pop()!];
      if (!secret) throw new ApiError(404, 'NotFound', 'not found');
      return {
        data: Object.fromEntries(
          Object.entries(secret).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
        ),
      };
    },
    async close() {},
  } as unknown as KubeClient;
  const io: PluginIO = {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    now: () => new Date('2026-12-01T04:10:00Z'),
    isTTY,
    runKubectl: async (args) => (out.kubectl.push(args), 0),
    openCluster: (flags) => (out.flags.push(flags), { namespace: flags.namespace ?? 'default', client }),
  };
  return { io, out };
}

const shopPods = [
  pod('shop-db-primary-0', database(), role('replica'), ready()),
  pod('shop-db-replica-0', database(), role('primary'), ready()),
  pod('shop-db-replica-1', database(), role('replica'), ready()),
  pod('shop-db-shard-1-primary-0', database('1'), role('primary'), ready()),
  pod('shop-db-shard-1-replica-0', database('1'), role('replica'), ready()),
  pod('shop-cache-0', tier('cache'), role('primary'), ready()),
  pod('shop-cache-1', tier('cache'), role('replica'), ready()),
];
const shop = app(
  {
    database: {
      engine: 'mariadb',
      primary: { ready: true, pod: 'shop-db-replica-0' },
      replicas: { replicas: 2, readyReplicas: 2 },
      shards: [
        { index: 0, ready: true },
        { index: 1, ready: true, primaryPod: 'shop-db-shard-1-primary-0' },
      ],
    },
    cache: { readyReplicas: 2 },
  },
  { database: { enabled: true, engine: 'mariadb' }, cache: { enabled: true } },
);

/** The pod, container and command of the one kubectl exec a session ran. */
const exec = (kubectl: string[][]) => {
  expect(kubectl).toHaveLength(1);
  const args = kubectl[0]!;
  const i = args.indexOf('exec');
  return {
    before: args.slice(0, i),
    tty: args[i + 1],
    pod: args[i + 2],
    container: args[i + 4],
    command: args.slice(i + 6),
  };
};

describe('kubectl sapp mysql', () => {
  it('execs the client in the pod labelled primary (after a failover, a replica StatefulSet pod)', async () => {
    const { io, out } = harness({ app: shop, pods: shopPods });
    expect(await mysqlCommand(['shop', '-n', 'shop', '--', '-e', 'SELECT 1'], io, '')).toBe(0);
    expect(out.kubectl).toEqual([
      [
        '--namespace',
        'shop',
        'exec',
        '-it',
        'shop-db-replica-0',
        '-c',
        'mariadb',
        '--',
        'bash',
        '-c',
        MYSQL_SCRIPT,
        'kubectl-sapp-mysql',
        'app',
        '-e',
        'SELECT 1',
      ],
    ]);
    expect(out.requests).toContain(
      'LIST /api/v1/namespaces/shop/pods?labelSelector=app.kubernetes.io/instance=shop,app.kubernetes.io/managed-by=scalable-app-operator',
    );
    expect(out.stderr).toBe('Connecting to pod shop-db-replica-0 (container mariadb)\n');
  });

  it('--replica goes to a replica of the group, --shard to the shard group, --user root as root', async () => {
    const { io, out } = harness({ app: shop, pods: shopPods });
    await mysqlCommand(['shop', '--replica'], io, '');
    await mysqlCommand(['shop', '--shard', '1'], io, '');
    await mysqlCommand(['shop', '--shard=1', '--replica', '-u', 'root'], io, '');
    expect(out.kubectl.map((a) => a[4])).toEqual([
      'shop-db-primary-0',
      'shop-db-shard-1-primary-0',
      'shop-db-shard-1-replica-0',
    ]);
    expect(out.kubectl.map((a) => a[12])).toEqual(['app', 'app', 'root']);
  });

  it('passes --context and --kubeconfig on to kubectl, and asks for no terminal when stdin is not one', async () => {
    const { io, out } = harness({ app: shop, pods: shopPods }, { isTTY: false });
    await mysqlCommand(['--context', 'kind-sapp', 'shop', '--kubeconfig=/tmp/kc', '-n', 'shop'], io, '');
    const e = exec(out.kubectl);
    expect(e.before).toEqual(['--kubeconfig', '/tmp/kc', '--context', 'kind-sapp', '--namespace', 'shop']);
    expect(e.tty).toBe('-i');
    expect(out.flags).toEqual([{ namespace: 'shop', context: 'kind-sapp', kubeconfig: '/tmp/kc' }]);
  });

  it('never reads a Secret: the password stays in the pod', async () => {
    const { io, out } = harness({ app: shop, pods: shopPods });
    await mysqlCommand(['shop'], io, '');
    expect(out.requests.filter((r) => r.includes('/secrets/'))).toEqual([]);
  });

  it.each([
    [['shop', '--shard', '7'], new PluginError('shop has no shard 7 (shards: 0..1)')],
    [['shop', '--shard', 'x'], new UsageError('--shard takes a shard index, not x')],
    [['shop', '--user', 'admin'], new UsageError('--user must be app or root, not admin')],
    [['shop', 'other'], new UsageError('one app name, not shop other')],
    [[], new UsageError('the app name is required')],
  ])('refuses %j', async (args, error) => {
    const { io, out } = harness({ app: shop, pods: shopPods });
    await expect(mysqlCommand(args, io, '')).rejects.toThrow(error);
    expect(out.kubectl).toEqual([]);
  });

  it.each([
    ['without a database', {}],
    ['with database.enabled false', { database: { enabled: false } }],
  ])('says an app %s has no database', async (_name, spec) => {
    const { io } = harness({ app: app({}, spec), pods: [] });
    await expect(mysqlCommand(['shop'], io, '')).rejects.toThrow(new PluginError('shop has no database'));
  });

  it('takes a database without an enabled field as enabled (the CRD defaults it to true)', async () => {
    const { io, out } = harness({ app: app({}, { database: { engine: 'mariadb' } }), pods: shopPods });
    expect(await mysqlCommand(['shop'], io, '')).toBe(0);
    expect(out.kubectl[0]![4]).toBe('shop-db-replica-0');
  });
});

describe('kubectl sapp redis', () => {
  it('execs redis-cli in the pod labelled primary, or a replica', async () => {
    const { io, out } = harness({ app: shop, pods: shopPods });
    await redisCommand(['shop', '-n', 'shop', '--', 'info', 'replication'], io, '');
    await redisCommand(['shop', '-n', 'shop', '--replica'], io, '');
    expect(out.kubectl).toEqual([
      [
        '--namespace',
        'shop',
        'exec',
        '-it',
        'shop-cache-0',
        '-c',
        'redis',
        '--',
        'redis-cli',
        'info',
        'replication',
      ],
      ['--namespace', 'shop', 'exec', '-it', 'shop-cache-1', '-c', 'redis', '--', 'redis-cli'],
    ]);
  });
});

describe('kubectl sapp credentials', () => {
  const secrets = {
    'shop-binding': { REDIS_URL: 'redis://:pw1@shop-cache:6379/0' },
    'shop-credentials': { REDIS_PASSWORD: 'pw1' },
  };

  it('reads the binding and credentials Secrets and masks the passwords', async () => {
    const { io, out } = harness({ app: shop, secrets });
    expect(await credentialsCommand(['shop', '-n', 'shop'], io, '')).toBe(0);
    expect(out.stdout).toContain('redis://:*****@shop-cache:6379/0');
    expect(out.stdout).not.toContain('pw1');
  });

  it('prints them with --show', async () => {
    const { io, out } = harness({ app: shop, secrets });
    await credentialsCommand(['shop', '--show'], io, '');
    expect(out.stdout).toContain('redis://:pw1@shop-cache:6379/0');
  });

  it('fails (exit 1) while a Secret is missing, saying which', async () => {
    const { io, out } = harness({ app: shop, secrets: { 'shop-binding': secrets['shop-binding'] } });
    expect(await credentialsCommand(['shop'], io, '')).toBe(1);
    expect(out.stdout).toContain('Secret shop-credentials does not exist (yet)');
  });

  it('says the app has nothing to connect to without a database or cache', async () => {
    const { io, out } = harness({ app: app({}, {}) });
    expect(await credentialsCommand(['shop'], io, '')).toBe(0);
    expect(out.stdout).toBe(
      'shop has neither a database nor a cache: it has no connection settings or passwords.\n',
    );
  });
});

describe('parseAppArgs', () => {
  it('keeps everything after -- for the client, options included', () => {
    const a = parseAppArgs(['shop', '-n', 'x', '--', '-n', '--help'], {});
    expect(a).toMatchObject({
      help: false,
      name: 'shop',
      values: { namespace: 'x' },
      rest: ['-n', '--help'],
    });
  });

  it('refuses an unknown option', () => {
    expect(() => parseAppArgs(['shop', '--show'], {})).toThrow(UsageError);
  });
});
