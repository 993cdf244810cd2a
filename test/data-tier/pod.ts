// A database pod, emulated on real MariaDB processes from the objects buildDatabase returns: the files of the
// ConfigMap as mounted, the container's command (start.sh, up to where it execs the image's entrypoint), the
// entrypoint's first start (initialize, root password and root host without binary log, /docker-entrypoint-initdb.d
// scripts, restart) and later starts, the probes' scripts. Only the
// paths (mount points → directories of the test) and the primary's address (Service → 127.0.0.1:port) differ.
// When the tests run as root, the container runs as its securityContext's user, as the kubelet would run it,
// on volumes prepared as the kubelet prepares them: ConfigMap files with the volume's defaultMode, a writable
// emptyDir, a data volume owned by the fsGroup.
import { execFile } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Container, V1EnvVar, V1PodSpec, V1StatefulSet, V1Volume } from '@kubernetes/client-node';
import type { K8sObject } from '../../src/builders/types.js';
import { type MariaDBServer, startMariaDB } from '../services/mariadb.js';
import type { ProcessUser } from '../services/process.js';

export interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program with an environment of exactly `env` (plus PATH), resolving with its exit code. */
export function run(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  user?: ProcessUser,
): Promise<ScriptResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, maxBuffer: 64 * 1024 * 1024, ...user },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * Who a pod's first container runs as, and the pod's fsGroup, when the tests run as root (the kubelet would
 * run it as its runAsUser); as the tests' own user otherwise, which is not root either.
 */
export function containerUser(pod: V1PodSpec): { user?: ProcessUser; fsGroup?: number } {
  if (process.getuid?.() !== 0) return {};
  const sc = { ...pod.securityContext, ...pod.containers[0]!.securityContext };
  if (sc.runAsUser === undefined || sc.runAsUser === 0) throw new Error('the container runs as root');
  return {
    user: { uid: sc.runAsUser, gid: sc.runAsGroup ?? 0 },
    ...(pod.securityContext?.fsGroup !== undefined ? { fsGroup: pod.securityContext.fsGroup } : {}),
  };
}

/**
 * Prepares the directories of a pod's volumes as the kubelet does: ConfigMap files owned by root and the
 * fsGroup with the volume's defaultMode (0644 unless set), emptyDirs writable by anyone. The pod's directory
 * itself must be open to the container's user.
 */
export function mountVolumes(
  dir: string,
  volumes: V1Volume[],
  configMapData: (name: string) => Record<string, string>,
  fsGroup?: number,
): void {
  chmodSync(dir, 0o755);
  for (const volume of volumes) {
    const at = join(dir, volume.name);
    mkdirSync(at, { recursive: true });
    if (volume.emptyDir) chmodSync(at, 0o777);
    if (!volume.configMap) continue;
    const data = configMapData(volume.configMap.name!);
    const items = volume.configMap.items ?? Object.keys(data).map((key) => ({ key, path: key }));
    for (const { key, path } of items) {
      writeFileSync(join(at, path), data[key]!);
      chmodSync(join(at, path), volume.configMap.defaultMode ?? 0o644);
      if (fsGroup !== undefined) chownSync(join(at, path), 0, fsGroup);
    }
  }
}

/** A claimed volume as the kubelet hands it over with an fsGroup: group-owned, group-writable, setgid. */
export function claimVolume(dir: string, fsGroup?: number): void {
  mkdirSync(dir, { recursive: true });
  if (fsGroup === undefined) return;
  chownSync(dir, 0, fsGroup);
  chmodSync(dir, 0o2775);
}

const find = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} among the built objects`);
  return found;
};

export interface PodOptions {
  /** What buildDatabase returned, and the Secrets the pods' secretKeyRefs name. */
  objects: K8sObject[];
  statefulSet: string;
  ordinal: number;
  /** The server's port (default: a free one). */
  port?: number;
  /** The port the primary's Service points at (replicas). */
  primaryPort?: number;
  /** Extra or replaced environment variables (see DatabasePod.env). */
  env?: Record<string, string>;
}

export class DatabasePod {
  readonly name: string;
  readonly dir = mkdtempSync(join(tmpdir(), 'sapp-pod-'));
  server: MariaDBServer | undefined;
  /** What start.sh and the bootstrap printed, start by start. */
  readonly log: string[] = [];
  /** Extra or replaced environment variables of both containers, e.g. to break things on purpose. */
  env: Record<string, string>;
  private readonly main: V1Container;
  /** The container's user (undefined: the tests' own, not root). */
  private readonly user: ProcessUser | undefined;
  private port: number | undefined;
  /** Stands in for the image's PATH: a docker-entrypoint.sh that records its arguments. */
  private readonly imageBin: string;

  constructor(private readonly opts: PodOptions) {
    this.name = `${opts.statefulSet}-${opts.ordinal}`;
    this.env = { ...opts.env };
    this.port = opts.port;
    const sts = find(opts.objects, 'StatefulSet', opts.statefulSet).spec as NonNullable<
      V1StatefulSet['spec']
    >;
    const pod = sts.template.spec!;
    this.main = pod.containers[0]!;
    const { user, fsGroup } = containerUser(pod);
    this.user = user;
    mountVolumes(
      this.dir,
      pod.volumes ?? [],
      (name) => find(opts.objects, 'ConfigMap', name).data as Record<string, string>,
      fsGroup,
    );
    claimVolume(join(this.dir, 'volume'), fsGroup);
    this.imageBin = join(this.dir, 'image-bin');
    mkdirSync(this.imageBin);
    if (user) chownSync(this.imageBin, user.uid, user.gid);
    writeFileSync(
      join(this.imageBin, 'docker-entrypoint.sh'),
      `#!/bin/sh\nprintf '%s\\n' "$@" > ${join(this.imageBin, 'args')}\n`,
      { mode: 0o755 },
    );
  }

  /** The directory of the test that stands in for a mount path of the pod. */
  private local(mountPath: string): string {
    const mount = (this.main.volumeMounts ?? []).find(
      (m) => mountPath === m.mountPath || mountPath.startsWith(`${m.mountPath}/`),
    );
    if (!mount) throw new Error(`${mountPath} is not on a volume of ${this.name}`);
    const base =
      mount.name === 'data' ? join(this.dir, 'volume', mount.subPath ?? '') : join(this.dir, mount.name);
    return base + mountPath.slice(mount.mountPath.length);
  }

  private environment(extra: Record<string, string> = {}): Record<string, string> {
    const value = (e: V1EnvVar): string => {
      if (e.value !== undefined) return e.value;
      const ref = e.valueFrom?.secretKeyRef;
      if (!ref?.name) throw new Error(`${e.name}: only values and secretKeyRefs are supported`);
      const data = find(this.opts.objects, 'Secret', ref.name).data as Record<string, string>;
      if (!(ref.key in data)) throw new Error(`${e.name}: Secret ${ref.name} has no key ${ref.key}`);
      return Buffer.from(data[ref.key]!, 'base64').toString('utf8');
    };
    return {
      ...Object.fromEntries((this.main.env ?? []).map((e) => [e.name, value(e)])),
      HOSTNAME: this.name,
      // The scripts' defaults are the pod's mount paths; here they are the test's directories.
      CONFIG_DIR: this.local('/config'),
      CONF_D: this.local('/etc/mysql/conf.d'),
      VOLUME_DIR: this.local('/volume'),
      ...(this.server ? { LOCAL_SOCKET: this.server.socket } : {}),
      ...(this.opts.primaryPort
        ? { PRIMARY_HOST: '127.0.0.1', PRIMARY_PORT: String(this.opts.primaryPort) }
        : {}),
      ...this.env,
      ...extra,
    };
  }

  /** Runs a command in the container (paths under its mounts translated). */
  private exec(command: string[], extraEnv: Record<string, string> = {}): Promise<ScriptResult> {
    const [cmd, ...args] = command.map((a) => (a.startsWith('/') ? this.local(a) : a));
    return run(cmd!, args, this.environment(extraEnv), this.user);
  }

  /** Runs a probe of the container: its exit code and output. */
  probe(kind: 'readiness' | 'liveness' | 'startup', env: Record<string, string> = {}): Promise<ScriptResult> {
    const probe = {
      readiness: this.main.readinessProbe,
      liveness: this.main.livenessProbe,
      startup: this.main.startupProbe,
    }[kind];
    return this.exec(probe!.exec!.command!, env);
  }

  /** Starts the container: its command up to the image's entrypoint, then the entrypoint's steps. */
  async start(): Promise<void> {
    const command = [...this.main.command!, ...(this.main.args ?? [])];
    const start = await this.exec(command, { PATH: `${this.imageBin}:${process.env.PATH}` });
    this.log.push(start.stderr);
    if (start.code !== 0) throw new Error(`${command.join(' ')} in ${this.name} failed: ${start.stderr}`);
    const handedOver = readFileSync(join(this.imageBin, 'args'), 'utf8');
    if (handedOver !== 'mariadbd\n') throw new Error(`the entrypoint got ${handedOver}, not mariadbd`);
    const confD = this.local('/etc/mysql/conf.d');
    // What the server's `!includedir` reads: the *.cnf files (conf.d also holds the operator's init-file SQL).
    const configFiles = readdirSync(confD)
      .filter((f) => f.endsWith('.cnf'))
      .sort()
      .map((f) => readFileSync(join(confD, f), 'utf8'));
    const dataDir = this.local('/var/lib/mysql');
    const fresh = readdirSync(dataDir).length === 0;
    this.server = await startMariaDB({
      name: this.name,
      baseDir: join(this.dir, 'server'),
      dataDir,
      configFiles,
      rootPassword: this.environment().MYSQL_ROOT_PASSWORD!,
      ...(this.port ? { port: this.port } : {}),
      // The entrypoint's temporary server listens on its socket only: a replica waiting for its primary must
      // not reach it (and then lose it to the restart below) before the primary is really up.
      skipNetworking: fresh,
      ...(this.user ? { user: this.user } : {}),
    });
    this.port = this.server.port;
    if (!fresh) return;
    // The image's root accounts: root@localhost with the password (above), no other that
    // mariadb-install-db made, and root@<root host>, which the official images create unless it is localhost
    // (their default is '%').
    await this.server.query(
      "SET SESSION sql_log_bin = 0; DROP USER IF EXISTS root@'127.0.0.1', root@'::1'; EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@\\'', @@hostname, '\\'')",
    );
    const env = this.environment();
    const rootHost = env.MARIADB_ROOT_HOST || env.MYSQL_ROOT_HOST || '%';
    if (rootHost !== 'localhost') {
      await this.server.query(
        "SET SESSION sql_log_bin = 0; CREATE USER 'root'@? IDENTIFIED BY ?; GRANT ALL ON *.* TO 'root'@? WITH GRANT OPTION",
        [rootHost, env.MYSQL_ROOT_PASSWORD, rootHost],
      );
    }
    // The entrypoint's first start: initdb scripts against the temporary server, then a restart.
    const initdb = this.local('/docker-entrypoint-initdb.d');
    for (const file of readdirSync(initdb).sort()) {
      const result = await run(join(initdb, file), [], this.environment(), this.user);
      this.log.push(result.stderr);
      if (result.code !== 0) {
        await this.server.stop();
        throw new Error(`${file} of ${this.name} failed (${result.code}): ${result.stderr}`);
      }
    }
    await this.server.stop();
    await this.server.start();
  }

  /** The container restarting: the server stops (gracefully or by SIGKILL), then the pod starts again. */
  async restart(how: 'stop' | 'kill' = 'stop'): Promise<void> {
    await (how === 'kill' ? this.server?.kill() : this.server?.stop());
    await this.start();
  }

  async destroy(): Promise<void> {
    await this.server?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Starts pods together, as their StatefulSets would, and waits for every start to settle before failing: a
 * failure must not let afterAll destroy pods whose servers are still starting (they would outlive the test).
 */
export async function startAll(pods: DatabasePod[]): Promise<void> {
  const results = await Promise.allSettled(pods.map((p) => p.start()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
