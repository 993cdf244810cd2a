// Real Redis and MariaDB servers arranged the way the operator arranges them (a main primary, optionally a real
// replica, shard primaries, optionally real shard replicas), and the binding environment that points at them.
// Used by the service tests and the benchmark. Replication is plain GTID replication set up by hand.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MariaDBServer, startMariaDB } from '../../../test/services/mariadb.js';
import { type RedisServer, startRedis } from '../../../test/services/redis.js';

export const APP_USER = 'app';
/** Characters that must be percent-encoded in a URL, to exercise the app's URL parsing. */
export const APP_PASSWORD = 'p@ss:w/rd%1';
const REPL_PASSWORD = 'repl-secret';
/** Redis requires a password, as the operator's Redis does; reserved URL characters again. */
export const REDIS_PASSWORD = 'r3dis@p:ss/w%1';
/** The operator's Redis entrypoint, which passes REDIS_PASSWORD to Redis as `requirepass`. */
const REDIS_START_SH = new URL('../../../src/builders/cache/start.sh', import.meta.url);

export interface ShardServers {
  primary: MariaDBServer;
  /** A real replica of the shard primary; absent: the shard's read URL is its primary. */
  replica: MariaDBServer | undefined;
}

export interface ShopServersOptions {
  /** Give the main primary a real replica (the read URL points at it). */
  mainReplica?: boolean;
  shards?: number;
  /** Indexes of shards that get a real replica. */
  shardReplicas?: number[];
}

export interface ShopServers {
  redis: RedisServer;
  main: MariaDBServer;
  mainReplica: MariaDBServer | undefined;
  shards: ShardServers[];
  /** Creates a database on every primary (replicas get it by replication) and grants it to the app user. */
  createDatabase(name: string): Promise<void>;
  /** The binding environment for `database`; `redisDb` selects a Redis logical database. */
  env(database: string, redisDb?: number): Record<string, string>;
  /** Waits until every replica has applied everything its primary has written. */
  syncReplicas(): Promise<void>;
  primaries(): MariaDBServer[];
  stop(): Promise<void>;
}

let nextServerId = 1;
const ROLE_CONFIG = {
  primary: 'log-bin=mysql-bin\nbinlog-format=ROW',
  // The app user (no READ ONLY ADMIN privilege) cannot write here, as on a real replica.
  replica: 'read-only=ON',
};

const url = (server: MariaDBServer, database: string) =>
  `mysql://${APP_USER}:${encodeURIComponent(APP_PASSWORD)}@127.0.0.1:${server.port}/${database}`;

async function replicate(replica: MariaDBServer, primary: MariaDBServer): Promise<void> {
  await primary.query(
    `CREATE USER IF NOT EXISTS 'repl'@'%' IDENTIFIED BY '${REPL_PASSWORD}'; GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%'`,
  );
  await replica.query(
    `SET GLOBAL gtid_slave_pos = '';
     CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = ${primary.port}, MASTER_USER = 'repl',
       MASTER_PASSWORD = '${REPL_PASSWORD}', MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1;
     START SLAVE`,
  );
}

async function waitForReplica(replica: MariaDBServer, primary: MariaDBServer): Promise<void> {
  const [{ pos } = { pos: '' }] = await primary.query<{ pos: string }[]>('SELECT @@gtid_binlog_pos AS pos');
  if (!pos) return;
  const [row] = await replica.query<{ done: number }[]>('SELECT MASTER_GTID_WAIT(?, 20) AS done', [pos]);
  if (row?.done !== 0) {
    const [status] = await replica.query<Record<string, unknown>[]>('SHOW SLAVE STATUS');
    throw new Error(
      `replica ${replica.name} did not reach ${pos}: ${JSON.stringify(status?.Last_Error ?? status)}`,
    );
  }
}

export async function startShopServers(opts: ShopServersOptions = {}): Promise<ShopServers> {
  const shardCount = opts.shards ?? 0;
  const withReplica = new Set(opts.shardReplicas ?? []);
  const started: { stop(): Promise<void> }[] = [];
  const track = <T extends { destroy(): Promise<void> }>(p: Promise<T>) =>
    p.then((s) => {
      started.push({ stop: () => s.destroy() });
      return s;
    });
  // Each server's temporary files in a directory of its own rather than the shared /tmp.
  const scratch = mkdtempSync(join(tmpdir(), 'shop-servers-'));
  const mariadb = (name: string, role: keyof typeof ROLE_CONFIG) => {
    const serverTmp = join(scratch, name);
    mkdirSync(serverTmp);
    const config = `[mariadbd]\nserver-id=${nextServerId++}\ntmpdir=${serverTmp}\n${ROLE_CONFIG[role]}\n`;
    return track(startMariaDB({ name, configFiles: [config] }));
  };
  const stopAll = async () => {
    await Promise.allSettled(started.map((s) => s.stop()));
    rmSync(scratch, { recursive: true, force: true });
  };
  try {
    const shardsStarting = Array.from({ length: shardCount }, (_, i) =>
      Promise.all([
        mariadb(`shop-shard-${i}`, 'primary'),
        withReplica.has(i) ? mariadb(`shop-shard-${i}-replica`, 'replica') : undefined,
      ]),
    );
    const starting = [
      track(
        startRedis({
          entrypoint: { script: readFileSync(REDIS_START_SH, 'utf8'), password: REDIS_PASSWORD },
        }),
      ),
      mariadb('shop-main', 'primary'),
      opts.mainReplica ? mariadb('shop-main-replica', 'replica') : Promise.resolve(undefined),
      Promise.all(shardsStarting),
    ] as const;
    // Wait for every start to settle before judging, so that a failure leaves nothing running.
    await Promise.allSettled(starting);
    const [redis, main, mainReplica, shardServers] = await Promise.all(starting);
    const shards: ShardServers[] = shardServers.map(([primary, replica]) => ({ primary, replica }));
    const pairs: [MariaDBServer, MariaDBServer][] = [
      ...(mainReplica ? [[mainReplica, main] as [MariaDBServer, MariaDBServer]] : []),
      ...shards.flatMap((s) => (s.replica ? [[s.replica, s.primary] as [MariaDBServer, MariaDBServer]] : [])),
    ];
    // Replication first: everything created afterwards (users, databases, tables) reaches the replicas.
    await Promise.all(pairs.map(([replica, primary]) => replicate(replica, primary)));
    const primaries = () => [main, ...shards.map((s) => s.primary)];
    await Promise.all(
      primaries().map((p) => p.query(`CREATE USER '${APP_USER}'@'%' IDENTIFIED BY '${APP_PASSWORD}'`)),
    );

    const servers: ShopServers = {
      redis,
      main,
      mainReplica,
      shards,
      primaries,
      async createDatabase(name) {
        await Promise.all(
          primaries().map((p) =>
            p.query(
              `CREATE DATABASE \`${name}\`; GRANT ALL PRIVILEGES ON \`${name}\`.* TO '${APP_USER}'@'%'`,
            ),
          ),
        );
        await servers.syncReplicas();
      },
      env(database, redisDb = 0) {
        return {
          REDIS_URL: `${redis.url}/${redisDb}`,
          DATABASE_WRITE_URL: url(main, database),
          DATABASE_READ_URL: url(mainReplica ?? main, database),
          DATABASE_SHARDS: JSON.stringify(
            shards.map((s, index) => ({
              index,
              writeUrl: url(s.primary, database),
              readUrl: url(s.replica ?? s.primary, database),
            })),
          ),
          SHARD_BUCKETS: '1024',
        };
      },
      async syncReplicas() {
        await Promise.all(pairs.map(([replica, primary]) => waitForReplica(replica, primary)));
      },
      stop: stopAll,
    };
    return servers;
  } catch (err) {
    await stopAll();
    throw err;
  }
}
