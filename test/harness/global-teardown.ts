// Stops the local cluster if the suite started it; a cluster that was already running is left alone.
// Self-contained like global-setup.ts.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');

export default async function globalTeardown(): Promise<void> {
  const marker = join(ROOT, '.local/test-started-cluster');
  let started = 'no';
  try {
    started = readFileSync(marker, 'utf8');
  } catch {
    return;
  }
  rmSync(marker, { force: true });
  if (started === 'yes' && process.env.SAPP_KEEP_CLUSTER !== '1') {
    execFileSync('bash', [join(ROOT, 'hack/cluster.sh'), 'down'], { stdio: 'inherit' });
  }
}
