// The database scripts, run by bash the way the pods run them (config files in a directory, settings in the
// environment), with fake client programs where a server would answer. The real-server proof is in
// test/data-tier; here each engine's variant is checked, MySQL's included.
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENGINES, type Engine } from '../../api/v1alpha1/index.js';
import { databaseConfigData } from './assets.js';
import { PATHS } from './pod.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'sapp-scripts-'));
  dirs.push(d);
  return d;
};

/** The ConfigMap of an engine, written out as the pod mounts it. */
function configDir(engine: Engine): string {
  const dir = tempDir();
  for (const [file, text] of Object.entries(databaseConfigData(engine))) writeFileSync(join(dir, file), text);
  return dir;
}

/** A directory of fake programs (name → shell body) to put first on PATH. */
function fakes(programs: Record<string, string>): string {
  const dir = tempDir();
  for (const [name, body] of Object.entries(programs)) {
    writeFileSync(join(dir, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

function bash(script: string, env: Record<string, string>, path = process.env.PATH!) {
  const r = spawnSync('/bin/bash', ['-c', script], { env: { PATH: path, ...env }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const ACCOUNTS = {
  APP_DATABASE: 'shop_db',
  APP_DATABASE_GRANT: 'shop\\_db',
  APP_USER: 'app',
  REPLICATION_USER: 'replicator',
  MYSQL_REPLICATION_PASSWORD: `it's a "pw" \\ with {{APP_USER}}`,
  MYSQL_APP_PASSWORD: 'app-pw',
  PRIMARY_HOST: 'shop-db-primary',
  PRIMARY_PORT: '3306',
};

const render = (engine: Engine, file: string, env: Record<string, string> = ACCOUNTS) =>
  bash('source "$CONFIG_DIR/lib.sh"; render_sql "$CONFIG_DIR/$FILE"', {
    CONFIG_DIR: configDir(engine),
    FILE: file,
    ...env,
  });

const ESCAPED_PW = `it\\'s a "pw" \\\\ with {{APP_USER}}`;

describe('SQL templates', () => {
  it.each([
    [
      'mysql',
      [
        'CHANGE REPLICATION SOURCE TO',
        "  SOURCE_HOST = 'shop-db-primary',",
        '  SOURCE_PORT = 3306,',
        "  SOURCE_USER = 'replicator',",
        `  SOURCE_PASSWORD = '${ESCAPED_PW}',`,
        '  SOURCE_AUTO_POSITION = 1,',
        '  SOURCE_CONNECT_RETRY = 5,',
        '  SOURCE_RETRY_COUNT = 1000000,',
        '  SOURCE_SSL = 1,',
        '  GET_SOURCE_PUBLIC_KEY = 1;',
        'SET PERSIST super_read_only = ON;',
      ],
    ],
    [
      'mariadb',
      [
        'CHANGE MASTER TO',
        "  MASTER_HOST = 'shop-db-primary',",
        '  MASTER_PORT = 3306,',
        "  MASTER_USER = 'replicator',",
        `  MASTER_PASSWORD = '${ESCAPED_PW}',`,
        '  MASTER_CONNECT_RETRY = 5,',
        '  MASTER_SSL_VERIFY_SERVER_CERT = 0,',
        '  MASTER_USE_GTID = slave_pos;',
      ],
    ],
  ] as const)('%s: points a replica at its primary by GTID, the password escaped', (engine, statements) => {
    const { code, stdout } = render(engine, 'change-source.sql');
    expect(code).toBe(0);
    const sql = stdout.split('\n').filter((l) => l && !l.startsWith('--'));
    expect(sql).toEqual(statements);
  });

  it.each(ENGINES)('%s: creates the database, the replication user and the app user', (engine) => {
    const { code, stdout } = render(engine, 'users.sql');
    expect(code).toBe(0);
    expect(stdout).toContain('CREATE DATABASE IF NOT EXISTS `shop_db`;');
    expect(stdout).toContain(`CREATE USER IF NOT EXISTS 'replicator'@'%' IDENTIFIED BY '${ESCAPED_PW}';`);
    expect(stdout).toMatch(
      /GRANT REPLICATION SLAVE, REPLICATION CLIENT, RELOAD, SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES\s+ON \*\.\* TO 'replicator'@'%';/,
    );
    expect(stdout).toContain("CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY 'app-pw';");
    expect(stdout).toContain("GRANT ALL PRIVILEGES ON `shop\\_db`.* TO 'app'@'%';");
  });

  it('refuses a placeholder whose variable is not set', () => {
    const { MYSQL_APP_PASSWORD: _, ...env } = ACCOUNTS;
    const r = render('mysql', 'users.sql', env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/\{\{MYSQL_APP_PASSWORD\}\} names no variable that is set/);
    expect(r.stdout).toBe('');
  });

  it.each([
    ['APP_DATABASE', 'shop`; DROP DATABASE x; --'],
    ['PRIMARY_PORT', '3306, MASTER_USER = x'],
  ])('refuses %s=%j where an identifier or number goes', (name, value) => {
    const file = name === 'APP_DATABASE' ? 'users.sql' : 'change-source.sql';
    const r = render('mariadb', file, { ...ACCOUNTS, [name]: value });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/is not an identifier or a number/);
  });
});

describe('lib.sh', () => {
  it('writes passwords into the client option file with quotes and backslashes escaped', () => {
    const r = bash('source "$CONFIG_DIR/lib.sh"; client_options app "$PW"', {
      CONFIG_DIR: configDir('mysql'),
      PW: 'a"b\\c d',
    });
    expect(r.stdout).toBe('[client]\nuser=app\npassword="a\\"b\\\\c d"\n');
  });

  it.each([
    [['mariadb', 'mysql'], 'mariadb'],
    [['mysql'], 'mysql'],
  ])('with %j installed, uses %s', (installed, chosen) => {
    const bin = fakes(Object.fromEntries(installed.map((p) => [p, 'exit 0'])));
    const r = bash(
      'source "$CONFIG_DIR/lib.sh"; program mariadb mysql',
      { CONFIG_DIR: configDir('mysql') },
      bin,
    );
    expect(r.stdout.trim()).toBe(join(bin, chosen));
  });

  it('defaults to the paths the pod mounts', () => {
    const lib = databaseConfigData('mysql')['lib.sh']!;
    expect(lib).toContain(`CONFIG_DIR="\${CONFIG_DIR:-${PATHS.config}}"`);
    expect(lib).toContain(`VOLUME_DIR="\${VOLUME_DIR:-${PATHS.volume}}"`);
    expect(databaseConfigData('mysql')['prepare.sh']).toContain(`CONF_D="\${CONF_D:-${PATHS.confD}}"`);
  });
});

describe('readiness.sh', () => {
  const MARIADB_OK = {
    Slave_IO_Running: 'Yes',
    Slave_SQL_Running: 'Yes',
    Slave_SQL_Running_State: 'Slave has read all relay log',
    Seconds_Behind_Master: '0',
  };
  const MYSQL_OK = {
    Replica_IO_Running: 'Yes',
    Replica_SQL_Running: 'Yes',
    Replica_SQL_Running_State: 'Replica has read all relay log',
    Seconds_Behind_Source: '0',
  };
  const status = (fields: Record<string, string>) =>
    `*************************** 1. row ***************************\n${Object.entries(fields)
      .map(([k, v]) => `${k.padStart(30)}: ${v}`)
      .join('\n')}\n`;

  /**
   * Runs readiness.sh against a fake client that answers the status and variable queries, in a pod of `role`'s
   * StatefulSet (which must not matter: roles move on failover).
   */
  function readiness(role: string, answers: { status?: string; state?: string }) {
    const bin = fakes({
      mariadb: `case "$*" in
        *'SHOW REPLICA STATUS'*) printf '%s' "$STATUS" ;;
        *skip_networking*) printf '%s\\n' "$STATE" ;;
        *) exit 2 ;;
      esac`,
    });
    return bash(
      'bash "$CONFIG_DIR/readiness.sh"',
      {
        CONFIG_DIR: configDir('mysql'),
        ROLE: role,
        MYSQL_ROOT_PASSWORD: 'pw',
        STATUS: answers.status ?? '',
        STATE: answers.state ?? '1\t0',
      },
      `${bin}:${process.env.PATH}`,
    );
  }

  it.each([
    ['MariaDB fields', status(MARIADB_OK)],
    ['MySQL 8.4 fields', status(MYSQL_OK)],
  ])('passes a read-only server replicating that prints %s, in either StatefulSet', (_name, text) => {
    expect(readiness('replica', { status: text })).toMatchObject({ code: 0 });
    expect(readiness('primary', { status: text })).toMatchObject({ code: 0 });
  });

  it.each([
    ['no replication set up', '', /read-only and not replicating \(IO: not set up.*waiting for the operator/],
    [
      'a connecting IO thread (MySQL)',
      status({ ...MYSQL_OK, Replica_IO_Running: 'Connecting' }),
      /IO: Connecting/,
    ],
    ['a stopped SQL thread (MariaDB)', status({ ...MARIADB_OK, Slave_SQL_Running: 'No' }), /SQL: No/],
    ['a lag of 61 s', status({ ...MARIADB_OK, Seconds_Behind_Master: '61' }), /lags the primary by 61 s/],
    ['an unknown lag', status({ ...MYSQL_OK, Seconds_Behind_Source: 'NULL' }), /lags the primary by NULL s/],
  ])('fails a read-only server with %s', (_name, text, message) => {
    const r = readiness('replica', { status: text });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
  });

  it.each([
    ['0\t0', 0],
    ['1\t0', 1],
    ['0\t1', 1],
    ['1\t1', 1],
  ])(
    'a server not replicating with read_only, skip_networking = %j exits %d, whatever its StatefulSet',
    (state, code) => {
      expect(readiness('primary', { state }).code).toBe(code);
      expect(readiness('replica', { state }).code).toBe(code);
    },
  );
});

describe.each(ENGINES)('dump.sh (%s)', (engine) => {
  it('copies every non-system database from the primary as the replication user, with its GTID position', () => {
    const argsFile = join(tempDir(), 'args');
    const bin = fakes({
      // The databases to copy; MariaDB's dump.sh also reads the primary's GTID history (-e).
      mariadb: `[[ " $* " == *" -e "* ]] && printf '1\\t0-1-5\\t\\n' || printf "shop_db\\nextra\\n"`,
      mysql: 'printf "shop_db\\nextra\\n"',
      'mariadb-dump': `printf '%s\\n' "$@" > ${argsFile}; cat "\${1#--defaults-extra-file=}" >> ${argsFile}; echo "SET GLOBAL gtid_slave_pos='0-1-5';"`,
      mysqldump: `printf '%s\\n' "$@" > ${argsFile}; cat "\${1#--defaults-extra-file=}" >> ${argsFile}`,
    });
    const r = bash(
      'bash "$CONFIG_DIR/dump.sh"',
      { ...ACCOUNTS, CONFIG_DIR: configDir(engine) },
      `${bin}:${process.env.PATH}`,
    );
    expect(r).toMatchObject({ code: 0 });
    const args = readFileSync(argsFile, 'utf8').split('\n');
    const flags = {
      mysql: ['--single-transaction', '--source-data=2', '--set-gtid-purged=ON', '--no-tablespaces'],
      mariadb: ['--single-transaction', '--master-data=1', '--gtid'],
    }[engine];
    expect(args).toEqual(
      expect.arrayContaining([
        ...flags,
        '--host=shop-db-primary',
        '--port=3306',
        '--protocol=TCP',
        '--routines',
        '--events',
        '--triggers',
        '--databases',
        'shop_db',
        'extra',
        'user=replicator',
        'password="it\'s a \\"pw\\" \\\\ with {{APP_USER}}"',
        'loose-ssl-verify-server-cert=0',
      ]),
    );
  });
});

describe('dump.sh (mariadb): the GTID history a copy takes', () => {
  const DUMP = [
    '-- MariaDB dump',
    'CREATE DATABASE `shop_db`;',
    "INSERT INTO `t` VALUES (1,'a\\tb');",
    "SET GLOBAL gtid_slave_pos='{{position}}';",
    '-- Dump completed',
  ];

  /**
   * dump.sh against a primary whose history (server id, gtid_binlog_state, gtid_slave_pos) reads `before`,
   * then `after` (undefined: the primary no longer answers), and whose dump names `position`.
   */
  function dump(before: string, after: string | undefined, position: string | undefined) {
    const dir = tempDir();
    const lines = DUMP.filter((l) => position !== undefined || !l.includes('{{position}}')).map((l) =>
      l.replace('{{position}}', position ?? ''),
    );
    writeFileSync(join(dir, 'dump'), `${lines.join('\n')}\n`);
    writeFileSync(join(dir, 'before'), `${before}\n`);
    if (after !== undefined) writeFileSync(join(dir, 'after'), `${after}\n`);
    const bin = fakes({
      mariadb: [
        `[[ " $* " == *" -e "* ]] || { echo shop_db; exit; }`,
        `if [[ -e ${dir}/read ]]; then cat ${dir}/after; else touch ${dir}/read; cat ${dir}/before; fi`,
      ].join('\n'),
      'mariadb-dump': `cat ${dir}/dump`,
    });
    const r = bash(
      'bash "$CONFIG_DIR/dump.sh"',
      { ...ACCOUNTS, CONFIG_DIR: configDir('mariadb') },
      `${bin}:${process.env.PATH}`,
    );
    return { ...r, dumped: lines };
  }

  it.each([
    [
      "another server's last transaction below the position is kept, the position last in its domain",
      '2\t0-1-319,0-2-450\t0-1-319',
      '2\t0-1-319,0-2-520\t0-1-319',
      '0-2-500',
      '0-1-319,0-2-500',
    ],
    [
      'what the primary wrote after the copy is left out, and its own earlier entry read before the copy is kept',
      '3\t0-3-200,0-1-319,0-2-500\t0-2-500',
      '3\t0-1-319,0-2-500,0-3-530\t0-2-500',
      '0-2-500',
      '0-3-200,0-1-319,0-2-500',
    ],
    [
      'a domain the position does not name was written after the copy: left out',
      '2\t0-1-319,0-2-500\t',
      '2\t0-1-319,0-2-510,1-2-3\t',
      '0-2-500',
      '0-1-319,0-2-500',
    ],
    [
      "every domain of the position, each ending with the domain's position",
      '2\t0-1-319,0-2-500,1-1-40,1-2-30\t',
      '2\t0-1-319,0-2-500,1-1-40,1-2-30\t',
      '0-2-500,1-1-40',
      '0-1-319,0-2-500,1-2-30,1-1-40',
    ],
    [
      'another server answering after the dump (a failover during the copy): the position only',
      '2\t0-1-319,0-2-450\t',
      '3\t0-1-319,0-2-480,0-3-490\t',
      '0-2-460',
      '0-2-460',
    ],
    [
      'a primary no longer answering after the dump: the position only',
      '2\t0-1-319,0-2-450\t',
      undefined,
      '0-2-460',
      '0-2-460',
    ],
  ])('%s', (_name, before, after, position, want) => {
    const r = dump(before, after, position);
    expect(r).toMatchObject({ code: 0 });
    // The dump passes through whole, then the history is set.
    expect(r.stdout).toBe(`${r.dumped.join('\n')}\nSET GLOBAL gtid_binlog_state = '${want}';\n`);
  });

  it('sets no history when the primary has logged no transaction yet (an empty position)', () => {
    const r = dump('1\t\t', '1\t\t', '');
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toBe(`${r.dumped.join('\n')}\n`);
  });

  it('fails when the dump names no GTID position', () => {
    const r = dump('2\t0-2-5\t', '2\t0-2-5\t', undefined);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/the copy names no GTID position/);
  });
});

describe('start.sh and prepare.sh', () => {
  function start(role: string, hostname: string, prepare: (volume: string) => void = () => {}) {
    const root = tempDir();
    const [confD, volume] = [join(root, 'conf.d'), join(root, 'volume')];
    mkdirSync(confD);
    mkdirSync(volume);
    prepare(volume);
    const bin = fakes({ 'docker-entrypoint.sh': 'echo "entrypoint $*"' });
    const r = bash(
      'bash "$CONFIG_DIR/start.sh" mariadbd',
      {
        CONFIG_DIR: configDir('mariadb'),
        CONF_D: confD,
        VOLUME_DIR: volume,
        ROLE: role,
        HOSTNAME: hostname,
        SERVER_ID_BASE: '111',
        OPERATOR_USER: 'sapp-operator',
        MYSQL_OPERATOR_PASSWORD: "op'pw",
      },
      `${bin}:${process.env.PATH}`,
    );
    const conf = existsSync(confD) ? readdirSync(confD).map((f) => readFileSync(join(confD, f), 'utf8')) : [];
    return { ...r, conf, volume };
  }

  it("writes the server's settings, server-id = SERVER_ID_BASE + ordinal and the operator's account as an init file, then runs the image's entrypoint", () => {
    const r = start('replica', 'shop-db-shard-0-replica-4');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('entrypoint mariadbd\n');
    const confD = join(r.volume, '..', 'conf.d');
    expect(r.conf).toEqual([
      databaseConfigData('mariadb')['server.cnf'],
      // AUTO_INCREMENT keys unique across groups (rows move between them when shards are added): shard 0's
      // servers (server ids 100-199) take the values ≡ 2 (mod 100).
      '[mysqld]\nserver-id=115\nreport-host=shop-db-shard-0-replica-4\nauto-increment-increment=100\nauto-increment-offset=2\n',
      `[mysqld]\ninit-file=${confD}/operator-account.sql\n`,
      expect.stringContaining("CREATE USER IF NOT EXISTS 'sapp-operator'@'%' IDENTIFIED BY 'op\\'pw';"),
    ]);
    // The account is this server's own: not binary-logged, so no replica sees a transaction of its own.
    expect(r.conf[3]!.split('\n')[0]).toBe('SET SESSION sql_log_bin = 0;');
    expect(statSync(join(confD, 'operator-account.sql')).mode & 0o777).toBe(0o600);
  });

  it.each(ENGINES)(
    '%s: every server starts refusing application writes (the operator opens the primary)',
    (engine) => {
      expect(databaseConfigData(engine)['server.cnf']).toMatch(/^read-only=ON$/m);
      expect(Object.keys(databaseConfigData(engine))).not.toContain('primary.cnf');
    },
  );

  it("writes conf.d anew on every start, with mode 0644, over an earlier start's read-only files", () => {
    // The ConfigMap is mounted with mode 0555; a plain copy keeps that mode, and a container restarting as
    // its non-root user could then not overwrite its own copies in the conf emptyDir.
    const config = configDir('mariadb');
    for (const file of readdirSync(config)) chmodSync(join(config, file), 0o555);
    const confD = join(tempDir(), 'conf.d');
    mkdirSync(confD);
    const bin = fakes({ 'docker-entrypoint.sh': 'true' });
    const env = {
      CONFIG_DIR: config,
      CONF_D: confD,
      VOLUME_DIR: tempDir(),
      HOSTNAME: 'shop-db-primary-0',
      OPERATOR_USER: 'sapp-operator',
      MYSQL_OPERATOR_PASSWORD: 'pw',
    };
    const first = bash(
      'bash "$CONFIG_DIR/start.sh" mariadbd',
      { ...env, ROLE: 'replica', SERVER_ID_BASE: '11' },
      `${bin}:${process.env.PATH}`,
    );
    expect(first.code).toBe(0);
    for (const file of readdirSync(confD)) chmodSync(join(confD, file), 0o444);
    const again = bash(
      'bash "$CONFIG_DIR/start.sh" mariadbd',
      { ...env, ROLE: 'primary', SERVER_ID_BASE: '1' },
      `${bin}:${process.env.PATH}`,
    );
    expect(again).toMatchObject({ code: 0, stderr: expect.not.stringMatching(/denied/) });
    const modes = readdirSync(confD).map((f) => [f, statSync(join(confD, f)).mode & 0o777]);
    expect(modes).toEqual([
      ['10-server.cnf', 0o644],
      ['30-server-id.cnf', 0o644],
      ['40-operator-account.cnf', 0o644],
      ['operator-account.sql', 0o600],
    ]);
    expect(readFileSync(join(confD, '30-server-id.cnf'), 'utf8')).toContain('server-id=1\n');
    expect(readFileSync(join(confD, '30-server-id.cnf'), 'utf8')).toContain('auto-increment-offset=1\n');
  });

  it.each([
    ['an unknown role', 'leader', 'shop-db-primary-0', /ROLE must be primary or replica/],
    ['a hostname without ordinal', 'primary', 'shop-db-primary', /no pod ordinal/],
  ])('refuses %s, and never starts the server', (_name, role, hostname, message) => {
    const r = start(role, hostname);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  it('marks an empty data directory as bootstrapping', () => {
    const r = start('primary', 'shop-db-primary-0');
    expect(existsSync(join(r.volume, 'bootstrap-pending'))).toBe(true);
    expect(readdirSync(join(r.volume, 'mysql'))).toEqual([]);
  });

  it('empties a data directory whose bootstrap did not finish', () => {
    const r = start('replica', 'shop-db-replica-0', (volume) => {
      mkdirSync(join(volume, 'mysql', 'mysql'), { recursive: true });
      writeFileSync(join(volume, 'mysql', '.hidden'), '');
      writeFileSync(join(volume, 'bootstrap-pending'), '');
    });
    expect(r.code).toBe(0);
    expect(readdirSync(join(r.volume, 'mysql'))).toEqual([]);
    expect(existsSync(join(r.volume, 'bootstrap-pending'))).toBe(true);
  });

  it('never touches a data directory without the marker', () => {
    const r = start('primary', 'shop-db-primary-0', (volume) => {
      mkdirSync(join(volume, 'mysql', 'shop_db'), { recursive: true });
    });
    expect(r.code).toBe(0);
    expect(readdirSync(join(r.volume, 'mysql'))).toEqual(['shop_db']);
    expect(existsSync(join(r.volume, 'bootstrap-pending'))).toBe(false);
  });
});
