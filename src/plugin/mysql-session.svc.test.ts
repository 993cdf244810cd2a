// The `kubectl sapp mysql` session script run by bash as in a database container, with the real mariadb client
// against a real server: it logs in as the app (on its database) or as root with passwords full of characters an
// option file must escape, and the client's argument list holds no password.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MariaDBServer, startMariaDB } from '../../test/services/mariadb.js';
import { MYSQL_SCRIPT } from './sessions.js';

const ROOT_PASSWORD = 'r"oo\\t #pw';
const APP_PASSWORD = 'a\\p"p #p w\'d';

let server: MariaDBServer;
let dir: string;

beforeAll(async () => {
  server = await startMariaDB({ name: 'plugin-session', rootPassword: ROOT_PASSWORD });
  const quoted = APP_PASSWORD.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  await server.query('CREATE DATABASE shop');
  await server.query(`CREATE USER 'app'@'%' IDENTIFIED BY '${quoted}'`);
  await server.query("GRANT ALL PRIVILEGES ON shop.* TO 'app'@'%'");
  // A mariadb in front of the real one that writes down the arguments it was given (what `ps` would show).
  dir = mkdtempSync(join(tmpdir(), 'sapp-plugin-session-'));
  const client = execFileSync('bash', ['-c', 'command -v mariadb'], { encoding: 'utf8' }).trim();
  writeFileSync(
    join(dir, 'mariadb'),
    `#!/bin/bash\nprintf '%s\\n' "$@" > '${dir}/argv'\nexec ${client} "$@"\n`,
  );
  chmodSync(join(dir, 'mariadb'), 0o755);
}, 60_000);

afterAll(async () => {
  await server?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function session(user: string, ...args: string[]): string {
  return execFileSync('bash', ['-c', MYSQL_SCRIPT, 'kubectl-sapp-mysql', user, ...args], {
    encoding: 'utf8',
    env: {
      PATH: `${dir}:${process.env.PATH}`,
      APP_USER: 'app',
      APP_DATABASE: 'shop',
      MYSQL_APP_PASSWORD: APP_PASSWORD,
      MYSQL_ROOT_PASSWORD: ROOT_PASSWORD,
      MYSQL_SOCKET: server.socket,
      HOME: process.env.HOME ?? '/',
    },
  });
}

describe('the mysql session script', () => {
  it('logs in as the app on its database', () => {
    expect(session('app', '-N', '-B', '-e', 'SELECT CURRENT_USER(), DATABASE()')).toBe('app@%\tshop\n');
  });

  it('logs in as root over the socket', () => {
    expect(session('root', '-N', '-B', '-e', 'SELECT CURRENT_USER()')).toBe('root@localhost\n');
  });

  it('gives the client no password in its arguments', () => {
    session('app', '-e', 'SELECT 1');
    const argv = readFileSync(join(dir, 'argv'), 'utf8');
    expect(argv).toMatch(/^--defaults-extra-file=\/dev\/fd\/\d+\n/);
    expect(argv).not.toContain('p #p');
    expect(argv).not.toContain('#pw');
  });

  it('refuses a user other than app and root', () => {
    expect(() => session('admin')).toThrow(/unknown MySQL user 'admin'/);
  });
});
