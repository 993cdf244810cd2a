// Failover of the Redis cache: a primary and its replicas, which copy it asynchronously. The same shape as the
// MySQL/MariaDB failover (decide.ts, executor.ts): a pure decision from observed state, and an executor that
// talks RESP to the servers, with what only Kubernetes can do (delete a pod) passed in as a hook.
//
// Redis replication is asynchronous: a write the primary acknowledged may not have reached any replica when it
// dies, and is lost. The decision promotes the replica with the highest replication offset, the one that lost
// least. When the old primary can still be reached (its node is NotReady), its writes are paused first and the
// chosen replica catches up before it is promoted: nothing acknowledged is lost then.
import { createClient } from 'redis';
import type { ReplicationRole } from '../builders/meta.js';
import type { Timeouts } from './connect.js';
import type { FailoverSettings } from './decide.js';
import type { MemberEndpoint, Step } from './executor.js';

export interface RedisMemberState {
  pod: string;
  ordinal: number;
  /** The operator connected and read INFO replication (within its short timeouts). */
  reachable: boolean;
  /** The pod's Ready condition. */
  ready: boolean;
  /** The Ready condition of the pod's node (false: NotReady or unknown). */
  nodeReady: boolean;
  /** The pod's role label. */
  role: ReplicationRole;
  /** The server is a master (role:master): it takes writes. */
  isMaster?: boolean;
  /** Replication offset: master_repl_offset of a master, slave_repl_offset of a replica. */
  offset?: number;
  /** A replica's link to its source is up (master_link_status:up). */
  linkUp?: boolean;
  /** The pod a replica replicates from, or its source's host:port when that is no member. */
  source?: string;
}

export interface RedisGroupState {
  members: RedisMemberState[];
  /** The pod recorded as primary, which the client Service selects. */
  primary: string;
  /** When the primary was first seen unreachable or on a NotReady node, without being seen healthy since (ms). */
  primaryDownSince?: number;
  /** When the operator last promoted a replica of this group (ms). */
  lastFailoverAt?: number;
}

/** replicaof: pause the old primary's writes, promote, then make it a replica; delete-pod: it cannot be reached. */
export type RedisFence = 'replicaof' | 'delete-pod';

export type RedisDecision =
  | { action: 'nothing' }
  | { action: 'wait'; reason: string }
  | {
      action: 'failover';
      from: string;
      to: string;
      fence: RedisFence;
      /** The other reachable members, to point at the new primary. */
      repoint: string[];
      reason: string;
    }
  | { action: 'rejoin-as-replica'; pod: string; primary: string; reason: string };

const seconds = (ms: number) => Math.floor(ms / 1000);

/** The best candidate first: highest offset, then lowest ordinal. */
const byOffset = (a: RedisMemberState, b: RedisMemberState) => b.offset! - a.offset! || a.ordinal - b.ordinal;

function chooseReplacement(
  group: RedisGroupState,
  settings: FailoverSettings,
  old: RedisMemberState,
  now: number,
): RedisDecision {
  const downFor = now - (group.primaryDownSince ?? now);
  const why = old.reachable
    ? `the node of primary ${old.pod} is NotReady`
    : `primary ${old.pod} is unreachable`;
  if (settings.unreachableSeconds === 0)
    return { action: 'wait', reason: `${why}; automatic failover is off` };
  if (old.nodeReady && downFor < settings.unreachableSeconds * 1000) {
    return {
      action: 'wait',
      reason: `${why} for ${seconds(downFor)} s of the ${settings.unreachableSeconds} s before failover`,
    };
  }
  if (
    group.lastFailoverAt !== undefined &&
    now - group.lastFailoverAt < settings.minSecondsBetweenFailovers * 1000
  ) {
    return {
      action: 'wait',
      reason: `${why}, but the last failover was ${seconds(now - group.lastFailoverAt)} s ago (at least ${settings.minSecondsBetweenFailovers} s between failovers)`,
    };
  }
  const others = group.members.filter((m) => m.pod !== old.pod && m.reachable);
  // A master beside the primary holds writes of its own (or nothing: a pod that started while the primary was
  // down): its offset counts another history, so it is no candidate.
  const candidates = others.filter((m) => m.isMaster === false && m.offset !== undefined).sort(byOffset);
  const best = candidates[0];
  if (!best) {
    const masters = others.filter((m) => m.isMaster).map((m) => m.pod);
    return {
      action: 'wait',
      reason: `${why} and no replica is reachable${masters.length ? ` (${masters.join(', ')} ${masters.length > 1 ? 'are primaries' : 'is a primary'} of its own, no candidate)` : ''}`,
    };
  }
  return {
    action: 'failover',
    from: old.pod,
    to: best.pod,
    fence: old.reachable ? 'replicaof' : 'delete-pod',
    repoint: others.filter((m) => m !== best).map((m) => m.pod),
    reason: `${why}; ${best.pod} is the most advanced reachable replica (offset ${best.offset})`,
  };
}

/** A reachable member that is not the primary but takes writes, or follows another server or none. */
function strayMember(group: RedisGroupState, primary: RedisMemberState): RedisDecision | undefined {
  for (const m of group.members) {
    if (m.pod === primary.pod || !m.reachable || m.isMaster === undefined) continue;
    if (m.isMaster || m.source !== primary.pod) {
      return {
        action: 'rejoin-as-replica',
        pod: m.pod,
        primary: primary.pod,
        reason: `${m.pod} ${m.isMaster ? 'takes writes' : `replicates from ${m.source ?? 'nobody'}`} but ${primary.pod} is the primary`,
      };
    }
  }
  return undefined;
}

export function decideRedisFailover(
  group: RedisGroupState,
  settings: FailoverSettings,
  now: number,
): RedisDecision {
  const primary = group.members.find((m) => m.pod === group.primary);
  if (!primary)
    return { action: 'wait', reason: `the recorded primary ${group.primary} is not a member of the group` };
  if (!primary.reachable || !primary.nodeReady) return chooseReplacement(group, settings, primary, now);
  if (primary.isMaster === false) {
    // Promoting it would drop the writes of the server it follows; a person (or a switchover) decides.
    return {
      action: 'wait',
      reason: `the recorded primary ${primary.pod} is a replica of ${primary.source ?? 'nobody'}`,
    };
  }
  return strayMember(group, primary) ?? { action: 'nothing' };
}

// ---- the servers

/** A member as the operator reaches it (`host`), and as the other servers reach it (`replicationHost`). */
export type RedisMemberEndpoint = MemberEndpoint & {
  /** What the other servers replicate from (default `host`), e.g. the pod's DNS name. */
  replicationHost?: string;
};

export interface RedisConfig {
  /** The group's password: requirepass of every server, and masterauth of its replicas. */
  password: string;
  /** Connecting (and logging in), and each command. */
  timeouts: Timeouts;
  /** How long the old primary's writes stay paused while a replica catches up and is promoted (default 10 s). */
  pauseMs?: number;
  /** How long a paused primary's replica may take to catch up before it is promoted anyway (default 2 s). */
  catchUpMs?: number;
}

/** A Redis error whose message never carries the password. */
export class RedisCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisCommandError';
  }
}

interface RedisConnection {
  command(args: string[]): Promise<unknown>;
}

const redact = (message: string, password: string) =>
  password ? message.split(password).join('***') : message;

/** Runs `fn` on a fresh connection (no reconnects, no offline queue) and closes it afterwards. */
async function withRedis<T>(
  m: RedisMemberEndpoint,
  cfg: RedisConfig,
  fn: (c: RedisConnection) => Promise<T>,
): Promise<T> {
  const where = `${m.host}:${m.port}`;
  const client = createClient({
    socket: { host: m.host, port: m.port, connectTimeout: cfg.timeouts.connectMs, reconnectStrategy: false },
    password: cfg.password,
    disableOfflineQueue: true,
  });
  client.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  const deadline = (ms: number, what: string) =>
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisCommandError(`${what}: no answer within ${ms} ms`)), ms);
    });
  const fail = (what: string, e: unknown): never => {
    if (e instanceof RedisCommandError) throw e;
    throw new RedisCommandError(`${what}: ${redact((e as Error).message ?? String(e), cfg.password)}`);
  };
  try {
    try {
      await Promise.race([client.connect(), deadline(cfg.timeouts.connectMs, `connecting to ${where}`)]);
    } catch (e) {
      fail(`connecting to ${where}`, e);
    } finally {
      clearTimeout(timer);
    }
    return await fn({
      async command(args) {
        // The command's first words say what failed; its values (a password) stay out.
        const what = `${args.slice(0, 2).join(' ')} on ${where}`;
        try {
          return await Promise.race([client.sendCommand(args), deadline(cfg.timeouts.queryMs, what)]);
        } catch (e) {
          return fail(what, e);
        } finally {
          clearTimeout(timer);
        }
      },
    });
  } finally {
    client.destroy();
  }
}

/** INFO's `key:value` lines. */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

const endpointOf = (members: RedisMemberEndpoint[], pod: string): RedisMemberEndpoint => {
  const found = members.find((m) => m.pod === pod);
  if (!found) throw new Error(`${pod} is not a member of the group`);
  return found;
};

/** The member a replica's master_host:master_port names (its host, replication host or an alias). */
function sourcePod(members: RedisMemberEndpoint[], host: string, port: number): string {
  const found = members.find(
    (s) => s.port === port && (s.host === host || s.replicationHost === host || s.aliases?.includes(host)),
  );
  return found?.pod ?? `${host}:${port}`;
}

const readReplication = async (c: RedisConnection) =>
  parseInfo(String(await c.command(['INFO', 'replication'])));

/** One member's state; a server that does not answer within the timeouts is unreachable, not an error. */
export async function observeRedisMember(
  m: RedisMemberEndpoint,
  members: RedisMemberEndpoint[],
  cfg: RedisConfig,
): Promise<RedisMemberState> {
  const base: RedisMemberState = {
    pod: m.pod,
    ordinal: m.ordinal,
    reachable: false,
    ready: m.ready,
    nodeReady: m.nodeReady,
    role: m.role,
  };
  let info: Record<string, string>;
  try {
    info = await withRedis(m, cfg, readReplication);
  } catch {
    return base;
  }
  if (info.role === 'master') {
    return { ...base, reachable: true, isMaster: true, offset: Number(info.master_repl_offset ?? 0) };
  }
  return {
    ...base,
    reachable: true,
    isMaster: false,
    offset: Number(info.slave_repl_offset ?? 0),
    linkUp: info.master_link_status === 'up',
    source: sourcePod(members, info.master_host ?? '', Number(info.master_port)),
  };
}

export const observeRedisGroup = (
  members: RedisMemberEndpoint[],
  cfg: RedisConfig,
): Promise<RedisMemberState[]> => Promise.all(members.map((m) => observeRedisMember(m, members, cfg)));

export interface RedisHooks {
  /** Removes the pod so that nothing can resurrect it as a writer (resolves once it is gone). */
  deletePod(pod: string): Promise<void>;
}

async function timed(steps: Step[], step: string, pod: string, fn: () => Promise<unknown>): Promise<boolean> {
  const started = Date.now();
  try {
    await fn();
    steps.push({ step, pod, ms: Date.now() - started });
    return true;
  } catch (e) {
    steps.push({ step, pod, ms: Date.now() - started, error: (e as Error).message });
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Carries out a decision in the order that never leaves two primaries taking writes: the old primary is fenced
 * (its writes paused, or, when it cannot be reached, its pod deleted) before a replica is promoted. Members
 * that fail to follow are left to the next pass (they show as strays). Returns each step with its duration and
 * error.
 */
export async function executeRedis(
  decision: RedisDecision,
  members: RedisMemberEndpoint[],
  cfg: RedisConfig,
  hooks: RedisHooks,
): Promise<Step[]> {
  const steps: Step[] = [];
  const on = <T>(pod: string, fn: (c: RedisConnection) => Promise<T>) =>
    withRedis(endpointOf(members, pod), cfg, fn);
  const follow = (pod: string, primary: string) => {
    const p = endpointOf(members, primary);
    return on(pod, async (c) => {
      await c.command(['CONFIG', 'SET', 'masterauth', cfg.password]);
      await c.command(['REPLICAOF', p.replicationHost ?? p.host, String(p.port)]);
    });
  };

  switch (decision.action) {
    case 'nothing':
    case 'wait':
      return steps;
    case 'failover': {
      const { from, to } = decision;
      let primaryOffset: number | undefined;
      const paused =
        decision.fence === 'replicaof' &&
        (await timed(steps, 'fence pause writes', from, () =>
          on(from, async (c) => {
            await c.command(['CLIENT', 'PAUSE', String(cfg.pauseMs ?? 10_000), 'WRITE']);
            primaryOffset = Number((await readReplication(c)).master_repl_offset);
          }),
        ));
      const fenced = paused || (await timed(steps, 'fence delete-pod', from, () => hooks.deletePod(from)));
      if (!fenced) throw new Error(`could not fence ${from}: no promotion (${steps.at(-1)!.error})`);
      if (primaryOffset !== undefined) {
        // Writes are paused: the replica receives the rest of the stream, then nothing acknowledged is lost.
        const want = primaryOffset;
        await timed(steps, 'catch up', to, async () => {
          const until = Date.now() + (cfg.catchUpMs ?? 2000);
          for (;;) {
            const offset = Number((await on(to, readReplication)).slave_repl_offset);
            if (offset >= want) return;
            if (Date.now() > until) throw new Error(`at offset ${offset} of ${want}: promoted anyway`);
            await sleep(20);
          }
        });
      }
      const promoted = await timed(steps, 'promote', to, () =>
        on(to, (c) => c.command(['REPLICAOF', 'NO', 'ONE'])),
      );
      if (!promoted) throw new Error(`could not promote ${to}: ${steps.at(-1)!.error}`);
      if (paused) {
        await timed(steps, 'demote', from, async () => {
          await follow(from, to);
          // A replica refuses writes on its own (READONLY); the pause has done its work.
          await on(from, (c) => c.command(['CLIENT', 'UNPAUSE']));
        });
      }
      for (const pod of decision.repoint) await timed(steps, 'repoint', pod, () => follow(pod, to));
      return steps;
    }
    case 'rejoin-as-replica':
      await timed(steps, 'repoint', decision.pod, () => follow(decision.pod, decision.primary));
      return steps;
  }
}
