// `kubectl sapp mysql NAME` and `kubectl sapp redis NAME`: an interactive client in the right pod, through
// `kubectl exec`, with the client the pod's image ships. No password leaves the cluster or appears in an argument
// list: the database and Redis containers already hold their passwords in their environment (from the
// credentials Secret), and the session reads them there.
//   mysql: bash in the database container runs mysql-session.sh, which hands the mariadb (or mysql) client an
//          option file on a pipe, as the operator's own scripts do, so `ps` shows no password;
//   redis: redis-cli reads REDISCLI_AUTH, which the Redis container sets for its probes.
import { readFileSync } from 'node:fs';

/** Where kubectl finds the cluster: the plugin's --kubeconfig and --context, passed on as given. */
export interface KubectlTarget {
  kubeconfig?: string;
  context?: string;
  namespace: string;
}

export interface Session {
  pod: string;
  container: string;
  /** The command to run in the container. */
  command: string[];
}

/** The mysql session's user: the app's account (its database, its rights) or root (over the local socket). */
export type MysqlUser = 'app' | 'root';
export const MYSQL_USERS: readonly MysqlUser[] = ['app', 'root'];

/** The script bash runs in the database container (mysql-session.sh, beside this module), without its comment
 * lines: it is an argument of `kubectl exec`, which `ps` shows. */
export const MYSQL_SCRIPT = readFileSync(new URL('./mysql-session.sh', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => !/^\s*#/.test(line))
  .join('\n');

export const mysqlSession = (
  pod: string,
  engine: string,
  user: MysqlUser,
  args: readonly string[],
): Session => ({
  pod,
  // The database container is named after its engine (builders/database/pod.ts).
  container: engine,
  command: ['bash', '-c', MYSQL_SCRIPT, 'kubectl-sapp-mysql', user, ...args],
});

export const redisSession = (pod: string, args: readonly string[]): Session => ({
  pod,
  container: 'redis',
  command: ['redis-cli', ...args],
});

/**
 * The kubectl command line of a session: stdin always (so `kubectl sapp mysql app < dump.sql` works), a
 * terminal only when ours is one (kubectl warns and goes on without otherwise).
 */
export function execArgs(target: KubectlTarget, session: Session, tty: boolean): string[] {
  return [
    ...(target.kubeconfig ? ['--kubeconfig', target.kubeconfig] : []),
    ...(target.context ? ['--context', target.context] : []),
    '--namespace',
    target.namespace,
    'exec',
    tty ? '-it' : '-i',
    session.pod,
    '-c',
    session.container,
    '--',
    ...session.command,
  ];
}
