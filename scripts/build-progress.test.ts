// hack/build-binaries.sh: a cold build runs for minutes, so it must say what it builds, how many steps are done
// and the time spent, at least every 30 s. The real script runs with its build steps replaced by sleeps.
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const script = join(import.meta.dirname, '..', 'hack', 'build-binaries.sh');

/** The progress lines of a run with the given stubs; the run itself must succeed. */
function runWithFakeBuilds(stubs: string): string[] {
  const cache = mkdtempSync(join(tmpdir(), 'build-progress-'));
  try {
    const r = spawnSync(
      'bash',
      ['-c', `source "$1"; ${stubs}; main kubernetes etcd kwok`, 'build-progress', script],
      {
        encoding: 'utf8',
        env: { ...process.env, SAPP_CACHE_DIR: cache, PROGRESS_SECONDS: '1' },
        timeout: 30_000,
      },
    );
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
    return r.stderr.split('\n').filter((l) => l.includes('done]'));
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

describe('build-binaries progress', () => {
  it('names the steps still building, counts the finished ones and shows the elapsed time', () => {
    const lines = runWithFakeBuilds(
      'build_kubernetes() { sleep 3.5; }; build_etcd() { sleep 1.5; }; build_kwok() { sleep 0.2; }',
    );
    expect(lines[0]).toMatch(/\[0\/3 done\] building etcd, kubernetes \.\.\. 0m0[12]s$/);
    expect(lines.at(-1)).toMatch(/\[2\/3 done\] building kubernetes \.\.\. 0m0[345]s$/);
  });

  it('prints nothing once every step is cached', () => {
    expect(runWithFakeBuilds('build_kubernetes() { :; }; build_etcd() { :; }; build_kwok() { :; }')).toEqual(
      [],
    );
  });
});
