// `kubectl sapp credentials NAME`: the connection settings the app's pods load (the binding Secret) and the
// data tier's passwords (the credentials Secret), every password masked unless --show.
import { APP_USER, CREDENTIAL_KEYS, OPERATOR_USER, REPLICATION_USER } from '../builders/credentials.js';
import { table } from './table.js';

/** What a password looks like when hidden: always the same, so its length is not given away either. */
export const MASK = '*****';

/** The URLs' `scheme://user:password@` password (URL-encoded, so it holds no `@`, `/` or `"`) masked. */
export const maskUrls = (text: string) =>
  text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s"]*:)[^@\s"/]+@/gi, `$1${MASK}@`);

/** Whose password each key of the credentials Secret is. */
const ACCOUNTS: Record<string, string> = {
  [CREDENTIAL_KEYS.appPassword]: `MySQL user ${APP_USER} (the app's account)`,
  [CREDENTIAL_KEYS.rootPassword]: 'MySQL user root (local socket only)',
  [CREDENTIAL_KEYS.replicationPassword]: `MySQL user ${REPLICATION_USER}`,
  [CREDENTIAL_KEYS.operatorPassword]: `MySQL user ${OPERATOR_USER} (the operator's account)`,
  [CREDENTIAL_KEYS.cachePassword]: 'Redis',
};

export interface SecretData {
  name: string;
  /** Decoded values, or undefined when the Secret does not exist. */
  values?: Record<string, string>;
}

export interface CredentialsInput {
  app: string;
  namespace: string;
  binding: SecretData;
  credentials: SecretData;
  show: boolean;
  /** The database's write Service, for the port-forward hint (undefined without a database). */
  databaseService?: string;
  cacheService?: string;
}

interface ShardUrls {
  index: number;
  writeUrl: string;
  readUrl: string;
}

/** The binding's keys and values, DATABASE_SHARDS spelled out one URL a line. */
function bindingRows(values: Record<string, string>, show: boolean): string[][] {
  const shown = (v: string) => (show ? v : maskUrls(v));
  return Object.keys(values)
    .sort()
    .flatMap((key) => {
      const value = values[key]!;
      if (key !== 'DATABASE_SHARDS') return [[key, shown(value)]];
      let shards: ShardUrls[];
      try {
        shards = JSON.parse(value) as ShardUrls[];
        if (!Array.isArray(shards)) throw new Error('not a list');
      } catch {
        return [[key, shown(value)]];
      }
      return shards.flatMap((s) => [
        [`${key}[${s.index}] write`, shown(String(s.writeUrl))],
        [`${key}[${s.index}] read`, shown(String(s.readUrl))],
      ]);
    });
}

const missing = (s: SecretData) =>
  `  Secret ${s.name} does not exist (yet): the operator writes it on its first pass.`;

/** The whole `credentials` text. */
export function formatCredentials(input: CredentialsInput): string {
  const { binding, credentials, show } = input;
  const hidden = show ? '' : ' (passwords masked; --show prints them)';
  const lines = [`Connection settings the pods of ${input.app} load, from Secret ${binding.name}${hidden}:`];
  lines.push(binding.values ? table(bindingRows(binding.values, show)) : missing(binding));
  lines.push('', `Passwords, from Secret ${credentials.name}:`);
  if (credentials.values) {
    const keys = Object.keys(credentials.values).sort();
    lines.push(table(keys.map((k) => [k, show ? credentials.values![k]! : MASK, ACCOUNTS[k] ?? ''])));
  } else lines.push(missing(credentials));
  const forwards = [
    input.databaseService && `svc/${input.databaseService} 3306`,
    input.cacheService && `svc/${input.cacheService} 6379`,
  ].filter(Boolean);
  if (forwards.length) {
    lines.push(
      '',
      'The hosts are Service names inside the cluster. From this machine, forward a port first, e.g.:',
      ...forwards.map((f) => `  kubectl -n ${input.namespace} port-forward ${f}`),
      `or open a client in the right pod: kubectl sapp mysql|redis ${input.app} -n ${input.namespace}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
