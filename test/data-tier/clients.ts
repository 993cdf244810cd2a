// Clients of the emulated database pods: the app user over TCP (as the web pods connect), root for checks.
import mysql from 'mysql2/promise';
import { waitFor } from '../services/ports.js';
import { CREDENTIALS } from './fixtures.js';
import type { DatabasePod } from './pod.js';

export const APP_DATABASE = 'shop_db';

export const appConnection = (pod: DatabasePod) =>
  mysql.createConnection({
    host: '127.0.0.1',
    port: pod.server!.port,
    user: 'app',
    password: CREDENTIALS.appPassword,
    database: APP_DATABASE,
  });

/** Runs one statement as the app user. */
export async function appQuery<T = mysql.RowDataPacket[]>(pod: DatabasePod, sql: string, params?: unknown[]) {
  const conn = await appConnection(pod);
  try {
    const [rows] = await conn.query(sql, params);
    return rows as T;
  } finally {
    await conn.end();
  }
}

export async function replicaStatus(pod: DatabasePod): Promise<Record<string, unknown>> {
  const [status] = await pod.server!.query<Record<string, unknown>[]>('SHOW REPLICA STATUS');
  return status ?? {};
}

/** Count and checksum of a table, to compare a replica with its primary. */
export async function tableState(pod: DatabasePod, table: string) {
  const [count] = await pod.server!.query<{ n: number }[]>(
    `SELECT COUNT(*) AS n FROM ${APP_DATABASE}.${table}`,
  );
  const [sum] = await pod.server!.query<{ Checksum: number }[]>(`CHECKSUM TABLE ${APP_DATABASE}.${table}`);
  return { rows: count!.n, checksum: sum!.Checksum };
}

/** Waits until the replica holds exactly what the primary holds. */
export async function waitForSync(
  primary: DatabasePod,
  replica: DatabasePod,
  table: string,
  timeoutMs = 30_000,
) {
  const want = await tableState(primary, table);
  await waitFor(
    `${replica.name} to hold what the primary holds (${want.rows} rows)`,
    async () => {
      const have = await tableState(replica, table);
      return have.rows === want.rows && have.checksum === want.checksum;
    },
    timeoutMs,
  );
}

/** Waits until a probe gives the wanted exit code (0 = passes); resolves with its last result. */
export async function waitForProbe(
  pod: DatabasePod,
  passes: boolean,
  env: Record<string, string> = {},
  timeoutMs = 30_000,
) {
  let last = { code: -1, stdout: '', stderr: '' };
  await waitFor(
    `readiness of ${pod.name} to ${passes ? 'pass' : 'fail'}`,
    async () => {
      last = await pod.probe('readiness', env);
      return (last.code === 0) === passes;
    },
    timeoutMs,
  );
  return last;
}
