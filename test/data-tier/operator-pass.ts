// The operator's part in the services tests: its account (the one every server creates for it at start, from
// the credentials Secret), its executor settings, and passes of the real groupPass over a group of pods, as the
// operator's replication monitor runs them (every server starts refusing writes; the operator opens the one
// it records as primary, fences, promotes and repoints).
import { OPERATOR_USER, REPLICATION_USER } from '../../src/builders/credentials.js';
import type { FailoverSettings } from '../../src/replication/decide.js';
import type { ExecutorConfig, Hooks, MemberEndpoint } from '../../src/replication/executor.js';
import { type GroupMemory, groupPass, type PassResult } from '../../src/replication/group-pass.js';
import { sleep } from '../services/ports.js';
import { CREDENTIALS } from './fixtures.js';
import type { DatabasePod } from './pod.js';

export const OPERATOR = { user: OPERATOR_USER, password: CREDENTIALS.operatorPassword };

export const executorConfig: ExecutorConfig = {
  engine: 'mariadb',
  operator: OPERATOR,
  replication: { user: REPLICATION_USER, password: CREDENTIALS.replicationPassword },
  timeouts: { connectMs: 1000, queryMs: 3000 },
  applyTimeoutSeconds: 30,
  semiSync: true,
  lockWaitSeconds: 2,
};

export const SETTINGS: FailoverSettings = {
  unreachableSeconds: 2,
  minSecondsBetweenFailovers: 0,
  maxLagSeconds: 10,
};

/** The pods as the operator sees them; `primary` is labelled primary. */
export const endpoints = (pods: DatabasePod[], primary: DatabasePod | string): MemberEndpoint[] =>
  pods.map((p, ordinal) => ({
    pod: p.name,
    ordinal,
    host: '127.0.0.1',
    port: p.server?.port ?? 1,
    role: p === primary || p.name === primary ? 'primary' : 'replica',
    ready: true,
    nodeReady: true,
  }));

/**
 * Runs passes over the group until one decides nothing (the group is as the operator wants it) and returns
 * every pass. `primary`: the pod recorded as primary; hooks default to doing nothing.
 */
export async function settle(
  pods: DatabasePod[],
  primary: DatabasePod | string,
  opts: { memory?: GroupMemory; hooks?: Partial<Hooks>; semiSync?: boolean; maxPasses?: number } = {},
): Promise<PassResult[]> {
  const passes: PassResult[] = [];
  let recorded = typeof primary === 'string' ? primary : primary.name;
  const cfg = { ...executorConfig, semiSync: opts.semiSync ?? pods.length > 1 };
  const hooks: Hooks = { deletePod: async () => {}, ...opts.hooks };
  for (let i = 0; i < (opts.maxPasses ?? 20); i++) {
    const pass = await groupPass(
      endpoints(pods, recorded),
      recorded,
      opts.memory ?? {},
      SETTINGS,
      cfg,
      hooks,
    );
    passes.push(pass);
    recorded = pass.primary;
    if (pass.decision.action === 'nothing') return passes;
    const failed = pass.steps.find((s) => s.error);
    if (failed) throw new Error(`${failed.step} of ${failed.pod} failed: ${failed.error}`);
    if (pass.decision.action === 'wait') await sleep(200);
  }
  throw new Error(`the group did not settle: ${passes.map((p) => JSON.stringify(p.decision)).join('; ')}`);
}
