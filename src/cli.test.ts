import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const cli = (args: string[], input?: string) =>
  spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'src/cli.ts'), ...args], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    timeout: 30_000,
  });

describe('scalable-app-operator CLI', () => {
  it('start with a bad configuration exits 2 with a message naming the variable', () => {
    const { status, stderr } = spawnSync(
      join(ROOT, 'node_modules/.bin/tsx'),
      [join(ROOT, 'src/cli.ts'), 'start'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, CONCURRENCY: 'lots' },
      },
    );
    expect(status).toBe(2);
    expect(stderr).toContain('CONCURRENCY:');
  });

  it('render -f examples/minimal.yaml prints the objects and exits 0', () => {
    const { status, stdout, stderr } = cli(['render', '-f', 'examples/minimal.yaml']);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toContain('kind: Deployment\n');
    expect(stdout).toContain('name: hello-web\n');
  });

  it('render -f - reads the app from standard input', () => {
    const { status, stdout } = cli(
      ['render', '-f', '-'],
      readFileSync(join(ROOT, 'examples/minimal.yaml'), 'utf8'),
    );
    expect(status).toBe(0);
    expect(stdout).toContain('name: hello-web\n');
  });

  it('an invalid spec exits 1 with the field-named message on stderr', () => {
    const { status, stdout, stderr } = cli(
      ['render', '-f', '-'],
      'apiVersion: scalable.dev/v1alpha1\nkind: ScalableApp\nmetadata: {name: x}\nspec: {web: {}}\n',
    );
    expect(status).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('render: <stdin>: document 1 (x): spec.web.image:');
  });

  it('an unknown command exits 2 with the usage', () => {
    const { status, stderr } = cli(['deploy']);
    expect(status).toBe(2);
    expect(stderr).toContain('unknown command: deploy');
    expect(stderr).toContain('render -f FILE');
  });
});
