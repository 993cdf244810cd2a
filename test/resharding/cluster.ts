// The servers of the resharding tests: a main primary, three shard primaries and a replica of the third (behind
// by a second or two (MASTER_DELAY counts from whole-second event times), so that a copy reaches it late), each with the operator's auto_increment settings. Every test
// case uses its own database on them, so cases share the servers and nothing else.
import { startMariaDB, type MariaDBServer } from '../services/mariadb.js';
import type { Endpoints, Topology } from '../../src/resharding/pass.js';

export const APP_USER = 'app';
export const APP_PASSWORD = `app pw 'q' "d"`;
/** The replica applies each event this long after its primary wrote it. */
export const REPLICA_DELAY_S = 2;

export interface Cluster {
  main: MariaDBServer;
  shards: MariaDBServer[];
  /** A replica of shards[2]. */
  replica: MariaDBServer;
  all: MariaDBServer[];
}

const config = (serverId: number, offset: number, extra: string[] = []) =>
  [
    '[mariadbd]',
    `server-id=${serverId}`,
    'log-bin=mysql-bin',
    'binlog-format=ROW',
    'auto-increment-increment=100',
    `auto-increment-offset=${offset}`,
    ...extra,
    '',
  ].join('\n');

const USERS = `SET SESSION sql_log_bin = 0;
CREATE USER '${APP_USER}'@'%' IDENTIFIED BY '${APP_PASSWORD.replace(/'/g, "''")}';
GRANT ALL PRIVILEGES ON \`rs\\_%\`.* TO '${APP_USER}'@'%';
CREATE USER 'repl'@'%' IDENTIFIED BY 'repl';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';`;

export async function startCluster(): Promise<Cluster> {
  // The operator's offsets: main 1, shard i i + 2 (id % 100 names the group that created a row).
  const [main, s0, s1, s2, replica] = await Promise.all([
    startMariaDB({ name: 'rs-main', configFiles: [config(1, 1)] }),
    startMariaDB({ name: 'rs-shard-0', configFiles: [config(10, 2)] }),
    startMariaDB({ name: 'rs-shard-1', configFiles: [config(20, 3)] }),
    startMariaDB({ name: 'rs-shard-2', configFiles: [config(30, 4)] }),
    startMariaDB({ name: 'rs-shard-2-replica', configFiles: [config(31, 4, ['read-only=1'])] }),
  ]);
  const all = [main!, s0!, s1!, s2!, replica!];
  for (const s of all) s.execScript(USERS);
  await replica!.query(
    `CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = ${s2!.port}, MASTER_USER = 'repl',
       MASTER_PASSWORD = 'repl', MASTER_USE_GTID = slave_pos, MASTER_DELAY = ${REPLICA_DELAY_S}`,
  );
  await replica!.query('START SLAVE');
  return { main: main!, shards: [s0!, s1!, s2!], replica: replica!, all };
}

const at = (s: MariaDBServer) => ({ host: '127.0.0.1', port: s.port });

export const endpoints = (primary: MariaDBServer, replicas: MariaDBServer[] = []): Endpoints => ({
  primary: at(primary),
  replicas: replicas.map(at),
});

export function topology(database: string, main: MariaDBServer, shards: Endpoints[]): Topology {
  return {
    engine: 'mariadb',
    database,
    user: APP_USER,
    password: APP_PASSWORD,
    main: endpoints(main),
    shards,
  };
}

/** The app's schema: two sharded tables (one with a composite key) and one that stays on main. */
export const APP_SCHEMA = `
CREATE TABLE items (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  k VARCHAR(40) NOT NULL,
  shard_bucket SMALLINT UNSIGNED NOT NULL,
  price DECIMAL(10,2) NULL,
  ratio DOUBLE NULL,
  created DATETIME(6) NOT NULL,
  doc JSON NULL,
  raw VARBINARY(16) NULL,
  note VARCHAR(64) NULL,
  UNIQUE KEY k (k),
  KEY shard_bucket (shard_bucket)
) ENGINE=InnoDB;
CREATE TABLE item_tags (
  item_k VARCHAR(40) NOT NULL,
  tag VARCHAR(16) NOT NULL,
  shard_bucket SMALLINT UNSIGNED NOT NULL,
  PRIMARY KEY (item_k, tag),
  KEY shard_bucket (shard_bucket)
) ENGINE=InnoDB;
CREATE TABLE settings (name VARCHAR(32) NOT NULL PRIMARY KEY, value VARCHAR(64) NOT NULL) ENGINE=InnoDB;
`;

/** Creates the case's database on every primary, and the app's tables on `withTables` (the groups in use). */
export async function createDatabase(cluster: Cluster, database: string, withTables: MariaDBServer[]) {
  for (const s of [cluster.main, ...cluster.shards]) await s.query(`CREATE DATABASE \`${database}\``);
  for (const s of withTables) s.execScript(APP_SCHEMA, database);
}
