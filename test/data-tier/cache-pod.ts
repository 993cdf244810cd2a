// The Redis pod, emulated on a real redis-server from the objects buildCache returns: the ConfigMap's files as
// mounted, the container's command (start.sh, which execs redis-server) in its working directory on the data
// volume, its environment from the credentials Secret, its user. Only the paths (mount points → directories
// of the test) and the port differ: the mounted redis.conf gets the test's port and loopback address as its
// last lines (later lines win). The client Service the container's env names (PRIMARY_HOST:PRIMARY_PORT) is
// whatever address the test gives start().
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Container, V1StatefulSet } from '@kubernetes/client-node';
import { createClient } from 'redis';
import type { K8sObject } from '../../src/builders/types.js';
import { freePort, waitFor } from '../services/ports.js';
import {
  pauseProcess,
  type ProcessUser,
  resumeProcess,
  startProcess,
  stopProcess,
} from '../services/process.js';
import { claimVolume, containerUser, mountVolumes } from './pod.js';

const find = (objects: K8sObject[], kind: string) => {
  const found = objects.find((o) => o.kind === kind);
  if (!found) throw new Error(`no ${kind} among the built objects`);
  return found;
};

export class CachePod {
  readonly dir = mkdtempSync(join(tmpdir(), 'sapp-cache-pod-'));
  private readonly main: V1Container;
  private readonly user: ProcessUser | undefined;
  private child: ChildProcess | undefined;

  /** `objects`: what buildCache returned, and the credentials Secret the container's env names. */
  static async create(objects: K8sObject[]): Promise<CachePod> {
    return new CachePod(objects, await freePort());
  }

  private constructor(
    private readonly objects: K8sObject[],
    readonly port: number,
  ) {
    const pod = (find(objects, 'StatefulSet').spec as NonNullable<V1StatefulSet['spec']>).template.spec!;
    this.main = pod.containers[0]!;
    const { user, fsGroup } = containerUser(pod);
    this.user = user;
    mountVolumes(this.dir, pod.volumes ?? [], () => this.configData(), fsGroup);
    // The data volume: a claim (persistence) or an emptyDir, which mountVolumes prepared.
    if (!(pod.volumes ?? []).some((v) => v.name === 'data')) claimVolume(join(this.dir, 'data'), fsGroup);
  }

  private configData(): Record<string, string> {
    const data = { ...(find(this.objects, 'ConfigMap').data as Record<string, string>) };
    data['redis.conf'] += `\n# The test's address.\nport ${this.port}\nbind 127.0.0.1\n`;
    return data;
  }

  /** The directory of the test that stands in for a path in the container. */
  private local(path: string): string {
    const mount = (this.main.volumeMounts ?? []).find(
      (m) => path === m.mountPath || path.startsWith(`${m.mountPath}/`),
    );
    return mount ? join(this.dir, mount.name) + path.slice(mount.mountPath.length) : path;
  }

  private environment(service?: { host: string; port: number }): Record<string, string> {
    const secret = find(this.objects, 'Secret').data as Record<string, string>;
    const env: Record<string, string> = Object.fromEntries(
      (this.main.env ?? []).map((e) => {
        const key = e.valueFrom?.secretKeyRef?.key;
        return [e.name, key ? Buffer.from(secret[key]!, 'base64').toString('utf8') : e.value!];
      }),
    );
    if (service && 'PRIMARY_HOST' in env) {
      env.PRIMARY_HOST = service.host;
      env.PRIMARY_PORT = String(service.port);
    }
    return env;
  }

  get password(): string {
    return this.environment().REDIS_PASSWORD!;
  }

  get url(): string {
    return `redis://:${encodeURIComponent(this.password)}@127.0.0.1:${this.port}`;
  }

  /** Redis' log: redis.conf logs to stdout, as a container's does. */
  log(): string {
    try {
      return readFileSync(join(this.dir, 'stdout.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /**
   * Starts the container: its command, in its working directory, as its user; waits until Redis answers.
   * `service`: where the client Service answers (default: the name in the pod's env, which resolves nowhere).
   */
  async start(service?: { host: string; port: number }): Promise<void> {
    const [cmd, ...args] = this.main.command!.map((a) => (a.startsWith('/') ? this.local(a) : a));
    const child = startProcess(cmd!, args, join(this.dir, 'stdout.log'), this.environment(service), {
      ...(this.user ? { user: this.user } : {}),
      cwd: this.local(this.main.workingDir!),
    });
    this.child = child;
    await waitFor(`redis of ${this.dir} on ${this.port}`, async () => {
      if (child.exitCode !== null) throw new Error(`the Redis container exited: ${this.log().slice(-2000)}`);
      const client = createClient({ url: this.url, socket: { reconnectStrategy: false } });
      client.on('error', () => {});
      await client.connect();
      const pong = await client.ping();
      await client.quit();
      return pong === 'PONG';
    });
  }

  /** The container restarting after its server was killed (SIGKILL) or stopped. */
  async restart(how: 'stop' | 'kill' = 'stop'): Promise<void> {
    if (this.child) await stopProcess(this.child, how === 'kill' ? 'SIGKILL' : 'SIGTERM');
    this.child = undefined;
    await this.start();
  }

  /** The server killed (SIGKILL) and not started again, as a pod that is gone. */
  async kill(): Promise<void> {
    if (this.child) await stopProcess(this.child, 'SIGKILL');
    this.child = undefined;
  }

  /** The server frozen (SIGSTOP), as a partitioned node looks from outside; resume() thaws it. */
  pause(): void {
    pauseProcess(this.child);
  }

  resume(): void {
    resumeProcess(this.child);
  }

  async destroy(): Promise<void> {
    if (this.child) await stopProcess(this.child, 'SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
