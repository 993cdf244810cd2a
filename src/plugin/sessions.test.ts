import { describe, expect, it } from '@jest/globals';
import { execArgs, MYSQL_SCRIPT, mysqlSession, redisSession } from './sessions.js';

describe('the kubectl command line of a session', () => {
  it('mysql: bash runs the session script in the engine-named container, the client args last', () => {
    const session = mysqlSession('shop-db-replica-0', 'mariadb', 'app', ['-e', 'SELECT 1']);
    expect(execArgs({ namespace: 'shop' }, session, true)).toEqual([
      '--namespace',
      'shop',
      'exec',
      '-it',
      'shop-db-replica-0',
      '-c',
      'mariadb',
      '--',
      'bash',
      '-c',
      MYSQL_SCRIPT,
      'kubectl-sapp-mysql',
      'app',
      '-e',
      'SELECT 1',
    ]);
  });

  it('redis: redis-cli in the redis container, with the kubeconfig and context passed on as given', () => {
    const session = redisSession('shop-cache-1', ['info', 'replication']);
    expect(
      execArgs({ namespace: 'shop', kubeconfig: '/tmp/kc', context: 'kind-sapp' }, session, false),
    ).toEqual([
      '--kubeconfig',
      '/tmp/kc',
      '--context',
      'kind-sapp',
      '--namespace',
      'shop',
      'exec',
      '-i',
      'shop-cache-1',
      '-c',
      'redis',
      '--',
      'redis-cli',
      'info',
      'replication',
    ]);
  });

  it('asks for a terminal only when stdin is one, and always passes stdin on', () => {
    const session = redisSession('p', []);
    expect(execArgs({ namespace: 'n' }, session, true)).toContain('-it');
    expect(execArgs({ namespace: 'n' }, session, false)).toContain('-i');
    expect(execArgs({ namespace: 'n' }, session, false)).not.toContain('-it');
  });
});

describe('the mysql session script', () => {
  it('reads the passwords from the container environment, never from its arguments', () => {
    expect(MYSQL_SCRIPT).toContain('password="$MYSQL_APP_PASSWORD"');
    expect(MYSQL_SCRIPT).toContain('password="$MYSQL_ROOT_PASSWORD"');
    expect(MYSQL_SCRIPT).toContain('--defaults-extra-file=<(');
    expect(MYSQL_SCRIPT).not.toMatch(/--password|-p"|MYSQL_PWD/);
  });

  it('is sent without its comments (kubectl exec shows it in ps), its code intact', () => {
    expect(MYSQL_SCRIPT).not.toMatch(/^\s*#/m);
    expect(MYSQL_SCRIPT).toMatch(/^set -eu$/m);
    expect(MYSQL_SCRIPT).toMatch(/^exec "\$client" --defaults-extra-file=/m);
  });
});
