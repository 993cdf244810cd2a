import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const run = (entry: string, args: string[]) =>
  spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, entry), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
const plugin = (...args: string[]) => run('src/plugin/main.ts', args);

describe('kubectl-sapp', () => {
  it('render prints what scalable-app-operator render prints', () => {
    const ours = plugin('render', '-f', 'examples/minimal.yaml');
    const operators = run('src/cli.ts', ['render', '-f', 'examples/minimal.yaml']);
    expect(ours.status).toBe(0);
    expect(ours.stdout).toContain('kind: Deployment\n');
    expect(ours.stdout).toBe(operators.stdout);
  }, 60_000);

  it('an unknown command exits 2 with the usage', () => {
    const r = plugin('stauts', 'shop');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^kubectl sapp: unknown command "stauts"\n\nkubectl sapp: look at and into ScalableApps/,
    );
  }, 60_000);

  it("a usage error exits 2 with the command's usage, before reading any kubeconfig", () => {
    const r = plugin('mysql', 'shop', '--shard', 'first');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^kubectl sapp mysql: --shard takes a shard index, not first\n\nUsage: kubectl sapp mysql NAME/,
    );
  }, 60_000);
});
