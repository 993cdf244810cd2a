// Real MariaDB servers (Debian's mariadbd) for tests: own data directory, loopback port, stopped by PID.
import { execFileSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import mysql from 'mysql2/promise';
import { freePort, waitFor } from './ports.js';
import { pauseProcess, type ProcessUser, resumeProcess, startProcess, stopProcess } from './process.js';

export interface MariaDBOptions {
  /** A name for logs and the data directory. */
  name?: string;
  /** Extra my.cnf files (full text, with their own [mysqld]/[mariadbd] sections), e.g. the operator's role config. */
  configFiles?: string[];
  /** Reuse an existing base directory (restart after stop). */
  baseDir?: string;
  /** Data directory (default `<baseDir>/data`), e.g. a subdirectory of an emulated pod volume. */
  dataDir?: string;
  port?: number;
  /**
   * Password of root@localhost (default none). Set on the first start of an empty data directory with the
   * binary log off, as the official images' entrypoint does; the helpers below then log in with it.
   */
  rootPassword?: string;
  /** The first start without TCP (`--skip-networking`): see MariaDBServer.start. */
  skipNetworking?: boolean;
  /**
   * Run the server (and mariadb-install-db) as this user, e.g. a pod's runAsUser, instead of the tests' own
   * (`--user=root` when they run as root). The base directory is handed to it; the data directory must be its.
   */
  user?: ProcessUser;
}

export interface MariaDBServer {
  name: string;
  port: number;
  socket: string;
  baseDir: string;
  dataDir: string;
  /** Connects as root over the Unix socket (with `rootPassword`, if one was given). */
  root(database?: string): Promise<mysql.Connection>;
  /** Runs SQL as root and returns rows. */
  query<T = mysql.RowDataPacket[]>(sql: string, params?: unknown[]): Promise<T>;
  /** Runs a SQL script (several statements) as root with the mariadb client. */
  execScript(sql: string, database?: string): void;
  errorLog(): string;
  /** Graceful stop (SIGTERM); the data directory stays for start again. */
  stop(): Promise<void>;
  /** Crash (SIGKILL). */
  kill(): Promise<void>;
  /** Freeze (SIGSTOP): connections are accepted but never answered, like a hung host. */
  pause(): void;
  /** Thaw after pause() (SIGCONT). */
  resume(): void;
  /**
   * Starts the server again on the same port and data directory. `skipNetworking`: only the Unix socket, as the
   * official images' entrypoint runs its temporary server for the initdb scripts, so that no other pod can
   * connect before the real server starts.
   */
  start(options?: { skipNetworking?: boolean }): Promise<void>;
  /** Stops and removes the data directory. */
  destroy(): Promise<void>;
}

const isRoot = () => process.getuid?.() === 0;

export async function startMariaDB(opts: MariaDBOptions = {}): Promise<MariaDBServer> {
  const name = opts.name ?? 'mariadb';
  const baseDir = opts.baseDir ?? mkdtempSync(join(tmpdir(), `sapp-${name}-`));
  const dataDir = opts.dataDir ?? join(baseDir, 'data');
  const confDir = join(baseDir, 'conf.d');
  const socket = join(baseDir, 'mysqld.sock');
  const port = opts.port ?? (await freePort());
  mkdirSync(confDir, { recursive: true });
  if (opts.user) chownSync(baseDir, opts.user.uid, opts.user.gid);
  (opts.configFiles ?? []).forEach((text, i) => writeFileSync(join(confDir, `${i}.cnf`), text));
  const user = isRoot() && !opts.user ? ['--user=root'] : [];
  writeFileSync(
    join(baseDir, 'my.cnf'),
    [
      '[mariadbd]',
      `datadir=${dataDir}`,
      `socket=${socket}`,
      `port=${port}`,
      'bind-address=127.0.0.1',
      `pid-file=${join(baseDir, 'mysqld.pid')}`,
      `log-error=${join(baseDir, 'error.log')}`,
      'skip-name-resolve',
      'innodb-buffer-pool-size=32M',
      'innodb-log-file-size=16M',
      'performance-schema=OFF',
      `!includedir ${confDir}`,
      '',
    ].join('\n'),
  );
  const clientConf = join(baseDir, 'client.cnf');
  const writeClientConf = (password: string) =>
    writeFileSync(
      clientConf,
      `[client]\nsocket=${socket}\nuser=root\npassword="${password.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"\n`,
      { mode: 0o600 },
    );
  const defaults = `--defaults-file=${join(baseDir, 'my.cnf')}`;
  let initialized = true;
  try {
    readFileSync(join(dataDir, 'mysql', 'db.frm'));
  } catch {
    initialized = false;
  }
  if (!initialized) installDataDir(name, baseDir, dataDir, [defaults, ...user], opts.user);

  let rootPassword = initialized ? (opts.rootPassword ?? '') : '';
  writeClientConf(rootPassword);
  let child: ChildProcess | undefined;
  const connect = (database?: string) =>
    mysql.createConnection({
      socketPath: socket,
      user: 'root',
      password: rootPassword,
      database,
      multipleStatements: true,
    });

  const server: MariaDBServer = {
    name,
    port,
    socket,
    baseDir,
    dataDir,
    root: connect,
    async query<T>(sql: string, params?: unknown[]) {
      const conn = await connect();
      try {
        const [rows] = await conn.query(sql, params);
        return rows as T;
      } finally {
        await conn.end();
      }
    },
    execScript(sql: string, database?: string) {
      execFileSync('mariadb', [`--defaults-file=${clientConf}`, ...(database ? [database] : [])], {
        input: sql,
        stdio: 'pipe',
      });
    },
    errorLog: () => {
      try {
        return readFileSync(join(baseDir, 'error.log'), 'utf8');
      } catch {
        return '';
      }
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
    async start({ skipNetworking = false } = {}) {
      const args = [defaults, ...user, ...(skipNetworking ? ['--skip-networking'] : [])];
      child = startProcess('mariadbd', args, join(baseDir, 'stdout.log'), undefined, {
        ...(opts.user ? { user: opts.user } : {}),
      });
      const started = child;
      await waitFor(`${name} on port ${port}`, async () => {
        if (started.exitCode !== null) throw new Error(`mariadbd exited: ${server.errorLog().slice(-2000)}`);
        const conn = await connect();
        await conn.end();
        return true;
      });
    },
    async destroy() {
      await server.stop();
      rmSync(baseDir, { recursive: true, force: true });
    },
  };
  await server.start({ skipNetworking: opts.skipNetworking ?? false });
  if (!initialized && opts.rootPassword !== undefined) {
    await server.query('SET SESSION sql_log_bin = 0; ALTER USER root@localhost IDENTIFIED BY ?', [
      opts.rootPassword,
    ]);
    rootPassword = opts.rootPassword;
    writeClientConf(rootPassword);
  }
  return server;
}

/**
 * mariadb-install-db into an empty data directory. A failure says what the installer and its bootstrap server
 * printed (execFileSync's own message is only "Command failed"). One CI run saw it fail once with no output
 * kept: a failed install is printed and tried once more on an emptied data directory, so the next such run
 * shows the cause without failing on it; a second failure fails the test.
 */
function installDataDir(
  name: string,
  baseDir: string,
  dataDir: string,
  args: string[],
  user: ProcessUser | undefined,
): void {
  const install = () =>
    execFileSync(
      'mariadb-install-db',
      [...args, '--auth-root-authentication-method=normal', '--skip-test-db'],
      {
        stdio: 'pipe',
        ...user,
      },
    );
  const describe = (err: unknown) => {
    const { stdout, stderr } = err as { stdout?: Buffer; stderr?: Buffer };
    let log = '';
    try {
      log = readFileSync(join(baseDir, 'error.log'), 'utf8').slice(-4000);
    } catch {
      // no server log: the installer failed before starting its server
    }
    return `mariadb-install-db for ${name} failed:\n${stderr?.toString() ?? ''}\n${stdout?.toString().slice(-2000) ?? ''}\n${log}`;
  };
  try {
    install();
  } catch (first) {
    console.warn(`${describe(first)}\n(trying once more on an emptied data directory)`);
    const entries = existsSync(dataDir) ? readdirSync(dataDir) : [];
    for (const entry of entries) rmSync(join(dataDir, entry), { recursive: true, force: true });
    try {
      install();
    } catch (second) {
      throw new Error(describe(second), { cause: second });
    }
  }
}
