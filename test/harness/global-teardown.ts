// Stops the local cluster if the suite started it; a cluster that was already running is left alone.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './cluster.js';

export default async function globalTeardown(): Promise<void> {
  const marker = join(REPO_ROOT, '.local/test-started-cluster');
  let started = 'no';
  try {
    started = readFileSync(marker, 'utf8');
  } catch {
    return;
  }
  rmSync(marker, { force: true });
  if (started === 'yes' && process.env.SAPP_KEEP_CLUSTER !== '1') {
    execFileSync('bash', [join(REPO_ROOT, 'hack/cluster.sh'), 'down'], { stdio: 'inherit' });
  }
}
