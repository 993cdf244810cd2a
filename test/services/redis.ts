// Real Redis servers (Debian's redis-server) for tests: own directory, loopback port, stopped by PID.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { freePort, waitFor } from './ports.js';
import { pauseProcess, resumeProcess, startProcess, stopProcess } from './process.js';

export interface RedisServer {
  port: number;
  url: string;
  dir: string;
  log(): string;
  stop(): Promise<void>;
  /** Crash (SIGKILL) without a final fsync. */
  kill(): Promise<void>;
  /** Freeze (SIGSTOP): connections are accepted but never answered, like a hung host. */
  pause(): void;
  /** Thaw after pause() (SIGCONT). */
  resume(): void;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export interface RedisOptions {
  /** redis.conf text (e.g. the operator's generated config); test-local port/dir/bind lines are appended. */
  config?: string;
  /**
   * Start through this entrypoint script (the operator's start.sh: `sh start.sh <redis.conf>`) with
   * REDIS_PASSWORD set to `password`, instead of running redis-server directly. `url` then carries the password.
   */
  entrypoint?: { script: string; password: string };
}

export async function startRedis(opts: RedisOptions = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sapp-redis-'));
  const port = await freePort();
  const conf = join(dir, 'redis.conf');
  // Later lines win in redis.conf: the test's own port, address and directory override the generated ones.
  writeFileSync(
    conf,
    `${opts.config ?? ''}\nport ${port}\nbind 127.0.0.1\ndir ${dir}\ndaemonize no\nlogfile ${join(dir, 'redis.log')}\nprotected-mode yes\n`,
  );
  let child: ChildProcess | undefined;
  const entry = opts.entrypoint;
  if (entry) writeFileSync(join(dir, 'start.sh'), entry.script);
  const auth = entry ? `:${encodeURIComponent(entry.password)}@` : '';
  const url = `redis://${auth}127.0.0.1:${port}`;
  const server: RedisServer = {
    port,
    url,
    dir,
    log: () => {
      try {
        return readFileSync(join(dir, 'redis.log'), 'utf8');
      } catch {
        return '';
      }
    },
    async start() {
      child = entry
        ? startProcess('sh', [join(dir, 'start.sh'), conf], join(dir, 'stdout.log'), {
            REDIS_PASSWORD: entry.password,
          })
        : startProcess('redis-server', [conf], join(dir, 'stdout.log'));
      const started = child;
      await waitFor(`redis on ${port}`, async () => {
        if (started.exitCode !== null) throw new Error(`redis-server exited: ${server.log().slice(-2000)}`);
        const client = createClient({ url, socket: { reconnectStrategy: false } });
        client.on('error', () => {});
        await client.connect();
        const pong = await client.ping();
        await client.quit();
        return pong === 'PONG';
      });
    },
    async stop() {
      if (child) await stopProcess(child, 'SIGTERM');
      child = undefined;
    },
    async kill() {
      if (child) await stopProcess(child, 'SIGKILL');
      child = undefined;
    },
    pause: () => pauseProcess(child),
    resume: () => resumeProcess(child),
    async destroy() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
