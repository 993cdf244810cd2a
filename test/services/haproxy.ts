// A real HAProxy (Debian's haproxy) in front of app instances on loopback ports: round robin over the servers,
// stickiness by an inserted SERVERID cookie, health checks on /readyz, and a request that finds its server down
// sent to another at once (option redispatch, retries). Runs in the foreground as a child process, stopped by PID.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.js';
import { startProcess, stopProcess } from './process.js';

export interface HAProxyServer {
  /** The server's name in HAProxy, and the SERVERID cookie's value for it. */
  name: string;
  port: number;
}

export interface HAProxyOptions {
  servers: HAProxyServer[];
  /** The health check's path (HTTP 200 = up). */
  healthPath?: string;
  /** Time between health checks (half after a failed one); down after 2 failed ones, up after 2 good ones. */
  checkIntervalMs?: number;
}

export interface HAProxy {
  /** http://127.0.0.1:<port> */
  url: string;
  config: string;
  log(): string;
  /** Each server's state as HAProxy sees it (UP, DOWN, `UP 1/2`, …), from its stats page. */
  states(): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

export function haproxyConfig(
  port: number,
  statsPort: number,
  { servers, healthPath = '/readyz', checkIntervalMs = 500 }: HAProxyOptions,
): string {
  return [
    'global',
    '  log stdout format raw local0 info',
    '  maxconn 2000',
    'defaults',
    '  mode http',
    '  log global',
    '  option httplog',
    '  timeout connect 2s',
    '  timeout client 30s',
    '  timeout server 30s',
    '  timeout http-keep-alive 30s',
    // A request whose server refuses the connection is retried on another server at once (redispatch on every
    // retry; with the default, only the last of the retries, after a 1 s turn-around each, about 2 s).
    '  option redispatch 1',
    '  retries 3',
    'frontend shop',
    `  bind 127.0.0.1:${port}`,
    '  default_backend pods',
    'backend pods',
    '  balance roundrobin',
    '  cookie SERVERID insert indirect nocache',
    `  option httpchk GET ${healthPath}`,
    '  http-check expect status 200',
    `  default-server inter ${checkIntervalMs} fastinter ${Math.ceil(checkIntervalMs / 2)} fall 2 rise 2`,
    ...servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port} check cookie ${s.name}`),
    'listen stats',
    `  bind 127.0.0.1:${statsPort}`,
    '  stats enable',
    '  stats uri /stats',
    '',
  ].join('\n');
}

export async function startHAProxy(opts: HAProxyOptions): Promise<HAProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'sapp-haproxy-'));
  const [port, statsPort] = [await freePort(), await freePort()];
  const config = haproxyConfig(port, statsPort, opts);
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, config);
  const logFile = join(dir, 'haproxy.log');
  const log = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  // -db: stay in the foreground (no daemon), so that the PID is HAProxy's own.
  const child: ChildProcess = startProcess('haproxy', ['-db', '-f', file], logFile);

  async function states(): Promise<Record<string, string>> {
    const csv = await (await fetch(`http://127.0.0.1:${statsPort}/stats;csv`)).text();
    const [header, ...rows] = csv.trim().split('\n');
    const columns = header!.replace(/^# /, '').split(',');
    const [px, sv, status] = ['pxname', 'svname', 'status'].map((c) => columns.indexOf(c));
    return Object.fromEntries(
      rows
        .map((r) => r.split(','))
        .filter((r) => r[px!] === 'pods' && r[sv!] !== 'BACKEND' && r[sv!] !== 'FRONTEND')
        .map((r) => [r[sv!]!, r[status!]!]),
    );
  }

  const haproxy: HAProxy = {
    url: `http://127.0.0.1:${port}`,
    config,
    log,
    states,
    async stop() {
      await stopProcess(child, 'SIGTERM', 5_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor('haproxy with every server up', async () => {
      if (child.exitCode !== null) throw new Error(`haproxy exited: ${log().slice(-2000)}`);
      const s = await states();
      return opts.servers.every((server) => s[server.name] === 'UP');
    });
  } catch (err) {
    await haproxy.stop();
    throw err;
  }
  return haproxy;
}
