// The kubectl plugin against the local API server, run as users run it: a child process (tsx) with the user's
// kubeconfig, here the test cluster's. The operator's controller runs in this process with the database servers
// simulated (kwok's pods run nothing): the replication monitor labels the pods by role and records the primary,
// and a planned switchover (the demote annotation) gives status a last failover. Then `kubectl sapp status` must
// show every tier's pods with their roles, the recorded primary and the failover; `credentials` the binding's
// URLs with the passwords masked (and shown with --show); `mysql`/`redis` must exec into the pods the labels
// name (kubectl itself is a stand-in here that prints its arguments: kwok's pods cannot be exec'd into).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { Controller } from '../src/controller/controller.js';
import type { KubeClient } from '../src/kube/client.js';
import type { Decision } from '../src/replication/decide.js';
import type { groupPass } from '../src/replication/group-pass.js';
import { applyObj, getObj, type Obj } from './harness/apps.js';
import { REPO_ROOT, createNamespace, deleteNamespace, kubectl } from './harness/cluster.js';
import { eventually } from './harness/wait.js';
import { startTestController } from './harness/controller.js';

const APP = 'plug';
const ROLE = 'scalable.dev/replication-role';
const WITHIN = { timeoutMs: 60_000 };
const DIR = join(REPO_ROOT, '.local', `plugin-test-${process.pid}`);

let ns: string;
let controller: Controller;
let client: KubeClient;

/** Stands in for the SQL pass: the servers are fine; a demoted primary hands over to a replica with an address. */
const simulatedPass: typeof groupPass = async (members, primary, _memory, _settings, _cfg, hooks) => {
  const observed = members.map((m) => ({ ...m, reachable: true }));
  const result = (decision: Decision, now = primary) => ({ observed, decision, steps: [], primary: now });
  if (!members.find((m) => m.pod === primary)?.demote) return result({ action: 'nothing' });
  const to = members.find((m) => m.pod !== primary && m.host)?.pod;
  if (!to) return result({ action: 'wait', reason: 'no replica has an address yet' });
  const reason = `switchover requested: ${primary} hands over to ${to}`;
  await hooks.recordPrimary!(to, reason);
  return result(
    { action: 'failover', from: primary, to, fence: 'read_only', repoint: [], switchover: true, reason },
    to,
  );
};

const app = (): Obj => ({
  apiVersion: 'scalable.dev/v1alpha1',
  kind: 'ScalableApp',
  metadata: { name: APP, namespace: ns },
  spec: {
    web: { image: 'registry.k8s.io/pause:3.10', replicas: 2 },
    database: { engine: 'mariadb', replicas: 1, shards: { count: 1, replicasPerShard: 1 } },
    cache: { replicas: 1, persistence: 'none' },
  },
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the plugin from source as a child process, with the test cluster's kubeconfig unless env says else. */
function plugin(args: string[], env: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/plugin/main.ts'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const labelOf = (pod: string) => getObj('Pod', ns, pod)?.metadata.labels?.[ROLE];
const lines = (text: string) => text.split('\n');
/** The line of the status text that starts (after its indent) with the pod's name. */
const podLine = (text: string, pod: string) =>
  lines(text).find((l) => l.trim().split(/\s+/)[0] === pod) ?? '';

beforeAll(async () => {
  ns = createNamespace('plugin');
  mkdirSync(DIR, { recursive: true });
  ({ controller, client } = await startTestController(ns, {
    replicationIntervalMs: 200,
    replicationPass: simulatedPass,
  }));
  applyObj(app());
  await eventually(
    'the pods labelled by role and the primaries recorded in status',
    () => {
      expect(labelOf(`${APP}-db-primary-0`)).toBe('primary');
      expect(labelOf(`${APP}-db-replica-0`)).toBe('replica');
      expect(labelOf(`${APP}-db-shard-0-primary-0`)).toBe('primary');
      expect(labelOf(`${APP}-cache-0`)).toBe('primary');
      const status = getObj('ScalableApp', ns, APP)?.status as
        { database?: { primary?: { pod?: string }; shards?: unknown[] } } | undefined;
      expect(status?.database?.primary?.pod).toBe(`${APP}-db-primary-0`);
      expect(status?.database?.shards).toHaveLength(1);
      return true;
    },
    { timeoutMs: 90_000 },
  );
}, 120_000);

afterAll(async () => {
  await controller?.stop();
  await client?.close();
  deleteNamespace(ns);
  rmSync(DIR, { recursive: true, force: true });
});

describe('kubectl sapp status', () => {
  it('shows every tier: web pods, each database group with its recorded primary and roles, the cache', () => {
    const r = plugin(['status', APP, '-n', ns]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toContain(`Name:       ${APP}\nNamespace:  ${ns}\n`);
    expect(out).toContain(`URL:        http://${APP}-web.${ns}.svc:80\n`);
    expect(out).toMatch(/\n {2}Ready +(True|False) /);
    expect(out).toMatch(/\nWeb: \d\/2 ready/);
    const webPods = lines(out).filter((l) => l.startsWith(`  ${APP}-web-`));
    expect(webPods).toHaveLength(2);
    expect(out).toContain('Database (mariadb):');
    expect(out).toMatch(
      new RegExp(
        `\\n {2}main +${APP}-db-primary-0 \\((ready|not ready)\\) +${APP}-db-primary:3306 +${APP}-db-replicas:3306 +\\d/1 ready\\n`,
      ),
    );
    expect(out).toMatch(
      new RegExp(
        `\\n {2}shard 0 +${APP}-db-shard-0-primary-0 .* +${APP}-db-shard-0-primary:3306 +${APP}-db-shard-0-replicas:3306 +\\d/1 ready\\n`,
      ),
    );
    expect(out).toContain('    main: none recorded\n');
    expect(podLine(out, `${APP}-db-primary-0`)).toMatch(/ main +primary /);
    expect(podLine(out, `${APP}-db-replica-0`)).toMatch(/ main +replica /);
    expect(podLine(out, `${APP}-db-shard-0-primary-0`)).toMatch(/ shard 0 +primary /);
    expect(podLine(out, `${APP}-db-shard-0-replica-0`)).toMatch(/ shard 0 +replica /);
    expect(out).toContain(`Cache (redis):`);
    expect(podLine(out, `${APP}-cache-0`)).toMatch(/ primary /);
    expect(podLine(out, `${APP}-cache-1`)).toMatch(/ replica /);
  }, 60_000);

  it('after a switchover: the new primary, the last failover, the roles swapped', async () => {
    kubectl(['annotate', 'pod', '-n', ns, `${APP}-db-primary-0`, 'scalable.dev/demote=true']);
    await eventually(
      'the switchover recorded in status and the labels moved',
      () => {
        const status = getObj('ScalableApp', ns, APP)?.status as
          { database?: { primary?: { pod?: string; lastFailover?: unknown } } } | undefined;
        return (
          status?.database?.primary?.pod === `${APP}-db-replica-0` &&
          status.database.primary.lastFailover !== undefined &&
          labelOf(`${APP}-db-replica-0`) === 'primary' &&
          labelOf(`${APP}-db-primary-0`) === 'replica'
        );
      },
      WITHIN,
    );
    const r = plugin(['status', APP, '-n', ns]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`\\n {2}main +${APP}-db-replica-0 `));
    expect(r.stdout).toMatch(
      new RegExp(
        `\\n {4}main: \\S+ ${APP}-db-primary-0 -> ${APP}-db-replica-0: switchover requested: ${APP}-db-primary-0 hands over to ${APP}-db-replica-0\\n`,
      ),
    );
    expect(podLine(r.stdout, `${APP}-db-primary-0`)).toMatch(/ main +replica /);
    expect(podLine(r.stdout, `${APP}-db-replica-0`)).toMatch(/ main +primary /);
  }, 90_000);

  it('takes the namespace from the kubeconfig context, as kubectl does; an unknown --context is refused', () => {
    const config = YAML.parse(readFileSync(process.env.KUBECONFIG!, 'utf8')) as {
      contexts: { name: string; context: Record<string, unknown> }[];
    };
    for (const c of config.contexts) c.context.namespace = ns;
    const file = join(DIR, 'kubeconfig');
    writeFileSync(file, YAML.stringify(config), { mode: 0o600 });
    const r = plugin(['status', APP], { KUBECONFIG: file });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Namespace:  ${ns}\n`);
    const bad = plugin(['status', APP, '--context', 'no-such-context']);
    expect(bad).toMatchObject({
      code: 1,
      stderr: 'kubectl sapp status: context "no-such-context" is not in the kubeconfig\n',
    });
  }, 60_000);

  it('names an app that does not exist', () => {
    expect(plugin(['status', 'nope', '-n', ns])).toMatchObject({
      code: 1,
      stderr: `kubectl sapp status: ScalableApp "nope" not found in namespace "${ns}"\n`,
    });
  }, 60_000);
});

describe('kubectl sapp credentials', () => {
  const secret = (name: string) => {
    const data = (getObj('Secret', ns, name) as { data?: Record<string, string> } | undefined)?.data ?? {};
    return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
  };

  it('prints the binding URLs with every password masked', () => {
    const passwords = Object.values(secret(`${APP}-credentials`));
    expect(passwords.length).toBeGreaterThan(0);
    const r = plugin(['credentials', APP, '-n', ns]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`\\n {2}DATABASE_WRITE_URL +mysql://app:\\*{5}@${APP}-db-primary:3306/app\\n`),
    );
    expect(r.stdout).toMatch(
      new RegExp(
        `\\n {2}DATABASE_SHARDS\\[0\\] write +mysql://app:\\*{5}@${APP}-db-shard-0-primary:3306/app\\n`,
      ),
    );
    expect(r.stdout).toMatch(new RegExp(`\\n {2}REDIS_URL +redis://:\\*{5}@${APP}-cache:6379/0\\n`));
    for (const p of passwords) expect(r.stdout).not.toContain(p);
  }, 60_000);

  it('--show prints them, as the Secrets hold them', () => {
    const binding = secret(`${APP}-binding`);
    const credentials = secret(`${APP}-credentials`);
    const r = plugin(['credentials', APP, '-n', ns, '--show']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `\\n {2}DATABASE_WRITE_URL +${binding.DATABASE_WRITE_URL!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`,
      ),
    );
    expect(r.stdout).toMatch(new RegExp(`\\n {2}MYSQL_ROOT_PASSWORD +${credentials.MYSQL_ROOT_PASSWORD} `));
  }, 60_000);
});

describe('kubectl sapp mysql and redis', () => {
  /** A kubectl that writes down its arguments: the exec the plugin would hand the terminal to. */
  function fakeKubectl(): { env: Record<string, string>; argv: () => string[] } {
    const file = join(DIR, 'kubectl');
    const record = join(DIR, 'kubectl-argv');
    writeFileSync(file, `#!/bin/sh\nprintf '%s\\n' "$@" > '${record}'\n`);
    chmodSync(file, 0o755);
    return { env: { KUBECTL: file }, argv: () => readFileSync(record, 'utf8').split('\n').slice(0, -1) };
  }

  it('mysql execs into the pod labelled primary; --replica and --shard into the pods their labels name', () => {
    const k = fakeKubectl();
    const target = (args: string[]) => {
      const r = plugin(['mysql', APP, '-n', ns, ...args], k.env);
      expect(r.code).toBe(0);
      const argv = k.argv();
      return argv.slice(argv.indexOf('exec') + 2, argv.indexOf('exec') + 5);
    };
    expect(target([])).toEqual([`${APP}-db-replica-0`, '-c', 'mariadb']);
    expect(target(['--replica'])).toEqual([`${APP}-db-primary-0`, '-c', 'mariadb']);
    expect(target(['--shard', '0'])).toEqual([`${APP}-db-shard-0-primary-0`, '-c', 'mariadb']);
    expect(target(['--shard', '0', '--replica'])).toEqual([`${APP}-db-shard-0-replica-0`, '-c', 'mariadb']);
  }, 60_000);

  it('redis execs redis-cli into the Redis primary, with the arguments after --', () => {
    const k = fakeKubectl();
    const r = plugin(['redis', APP, '-n', ns, '--', 'ping'], k.env);
    expect(r.code).toBe(0);
    expect(k.argv()).toEqual([
      '--namespace',
      ns,
      'exec',
      '-i',
      `${APP}-cache-0`,
      '-c',
      'redis',
      '--',
      'redis-cli',
      'ping',
    ]);
  }, 60_000);
});
