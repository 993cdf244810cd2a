// scripts/copy-assets.ts: which files count as assets, and the proof that matters: compiled output plus the
// copied assets runs (`node <out>/src/cli.js render`), and without an asset it does not.
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assetFiles, copyAssets, staleAssets } from './copy-assets.js';

const root = join(import.meta.dirname, '..');
const src = join(root, 'src');
const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('assetFiles', () => {
  it('finds the builders’ scripts and config templates, and no sources, tests or snapshots', () => {
    const files = assetFiles(src);
    expect(files).toEqual(
      expect.arrayContaining([
        'builders/cache/redis.conf',
        'builders/cache/ping.sh',
        'builders/database/scripts/users.sql',
      ]),
    );
    expect(files.filter((f) => /\.(ts|snap)$|__snapshots__/.test(f))).toEqual([]);
    expect(files.filter((f) => !/\.(sh|sql|cnf|conf)$/.test(f))).toEqual([]);
  });

  it('copies to the same relative paths and reports what is missing or stale', () => {
    const from = mkdtempSync(join(tmpdir(), 'copy-assets-'));
    scratch.push(from);
    mkdirSync(join(from, 'a', '__snapshots__'), { recursive: true });
    writeFileSync(join(from, 'a', 'x.ts'), 'export {};');
    writeFileSync(join(from, 'a', 'run.sh'), 'echo hi\n');
    writeFileSync(join(from, 'a', '__snapshots__', 'x.test.ts.snap'), '');
    const to = join(from, 'out');
    expect(staleAssets(join(from, 'a'), to)).toEqual(['run.sh']);
    expect(copyAssets(join(from, 'a'), to)).toEqual(['run.sh']);
    expect(staleAssets(join(from, 'a'), to)).toEqual([]);
    writeFileSync(join(from, 'a', 'run.sh'), 'echo changed\n');
    expect(staleAssets(join(from, 'a'), to)).toEqual(['run.sh']);
  });
});

describe('the compiled operator with its assets', () => {
  it('renders examples/shop.yaml; without an asset it fails at import', () => {
    // Inside the repository, so that node finds node_modules and package.json ("type": "module") above it.
    mkdirSync(join(root, '.local'), { recursive: true });
    const out = mkdtempSync(join(root, '.local', 'build-'));
    scratch.push(out);
    const tsc = spawnSync(
      process.execPath,
      [
        join(root, 'node_modules/typescript/bin/tsc'),
        '-p',
        join(root, 'tsconfig.build.json'),
        '--outDir',
        out,
      ],
      { encoding: 'utf8' },
    );
    expect(tsc.stdout + tsc.stderr).toBe('');
    copyAssets(src, join(out, 'src'));
    const render = () =>
      spawnSync(
        process.execPath,
        [join(out, 'src/cli.js'), 'render', '-f', join(root, 'examples/shop.yaml')],
        {
          encoding: 'utf8',
        },
      );
    const ok = render();
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('kind: StatefulSet');
    rmSync(join(out, 'src/builders/cache/redis.conf'));
    const broken = render();
    expect(broken.status).not.toBe(0);
    expect(broken.stderr).toContain('redis.conf');
  }, 120_000);
});
