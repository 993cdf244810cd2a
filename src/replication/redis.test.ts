import { describe, expect, it } from '@jest/globals';
import type { FailoverSettings } from './decide.js';
import {
  decideRedisFailover,
  parseInfo,
  type RedisDecision,
  type RedisGroupState,
  type RedisMemberState,
} from './redis.js';

const SETTINGS: FailoverSettings = {
  unreachableSeconds: 10,
  minSecondsBetweenFailovers: 300,
  maxLagSeconds: 30,
};
const NOW = 1_000_000_000;

type Mod = (m: RedisMemberState) => RedisMemberState;
const member = (pod: string, ordinal: number, ...mods: Mod[]): RedisMemberState =>
  mods.reduce((m, mod) => mod(m), {
    pod,
    ordinal,
    reachable: true,
    ready: true,
    nodeReady: true,
    role: 'replica',
    isMaster: false,
    offset: 1000,
    linkUp: true,
    source: 'cache-0',
  } as RedisMemberState);

const offset =
  (n: number): Mod =>
  (m) => ({ ...m, offset: n });
const unreachable: Mod = ({ isMaster: _m, offset: _o, linkUp: _l, source: _s, ...m }) => ({
  ...m,
  reachable: false,
  ready: false,
});
const nodeNotReady: Mod = (m) => ({ ...m, nodeReady: false, ready: false });
const linkDown: Mod = (m) => ({ ...m, linkUp: false, ready: false });
const asMaster: Mod = ({ linkUp: _l, source: _s, ...m }) => ({ ...m, isMaster: true });
const asPrimary: Mod = (m) => ({ ...asMaster(m), role: 'primary' });
const source =
  (pod: string | undefined): Mod =>
  (m) => ({ ...m, source: pod });

/** cache-0 is the primary (unless a case says otherwise), cache-1 and cache-2 its replicas. */
const group = (
  primary: Mod[],
  r1: Mod[],
  r2: Mod[],
  extra: Partial<RedisGroupState> = {},
): RedisGroupState => ({
  members: [
    member('cache-0', 0, asPrimary, ...primary),
    member('cache-1', 1, ...r1),
    member('cache-2', 2, ...r2),
  ],
  primary: 'cache-0',
  ...extra,
});
const downFor = (s: number) => ({ primaryDownSince: NOW - s * 1000 });

describe('decideRedisFailover', () => {
  // A decision, or a matcher of its fields.
  it.each<[string, RedisGroupState, RedisDecision | ReturnType<typeof expect.objectContaining>]>([
    ['a healthy group: nothing to do', group([], [], []), { action: 'nothing' }],
    [
      'a replica whose link is down while the primary answers: nothing (Redis reconnects it by itself)',
      group([], [linkDown], []),
      { action: 'nothing' },
    ],
    [
      'the primary unreachable for less than the setting: wait',
      group([unreachable], [], [], downFor(4)),
      {
        action: 'wait',
        reason: 'primary cache-0 is unreachable for 4 s of the 10 s before failover',
      },
    ],
    [
      'flapping: the primary came back before the setting elapsed (not down since): nothing',
      group([], [linkDown], [linkDown]),
      { action: 'nothing' },
    ],
    [
      'the primary unreachable for the setting: the replica with the highest offset, the other repointed',
      group([unreachable], [offset(900)], [offset(1000)], downFor(10)),
      {
        action: 'failover',
        from: 'cache-0',
        to: 'cache-2',
        fence: 'delete-pod',
        repoint: ['cache-1'],
        reason:
          'primary cache-0 is unreachable; cache-2 is the most advanced reachable replica (offset 1000)',
      },
    ],
    [
      'equal offsets: the lowest ordinal',
      group([unreachable], [linkDown], [linkDown], downFor(11)),
      expect.objectContaining({ action: 'failover', to: 'cache-1', repoint: ['cache-2'] }),
    ],
    [
      'the primary on a NotReady node, still answering: at once, fenced by REPLICAOF (its writes paused first)',
      group([nodeNotReady], [], [offset(999)]),
      expect.objectContaining({
        action: 'failover',
        to: 'cache-1',
        fence: 'replicaof',
        repoint: ['cache-2'],
        reason:
          'the node of primary cache-0 is NotReady; cache-1 is the most advanced reachable replica (offset 1000)',
      }),
    ],
    [
      'the primary on a NotReady node and unreachable: at once, fenced by deleting its pod',
      group([unreachable, nodeNotReady], [], []),
      expect.objectContaining({ action: 'failover', to: 'cache-1', fence: 'delete-pod' }),
    ],
    [
      'no replica reachable: wait',
      group([unreachable], [unreachable], [unreachable], downFor(60)),
      { action: 'wait', reason: 'primary cache-0 is unreachable and no replica is reachable' },
    ],
    [
      'the only other reachable server is a primary of its own (restarted while the primary was down): no candidate',
      group([unreachable], [unreachable], [asMaster, offset(5)], downFor(60)),
      {
        action: 'wait',
        reason:
          'primary cache-0 is unreachable and no replica is reachable (cache-2 is a primary of its own, no candidate)',
      },
    ],
    [
      'a replica and a stray primary: the replica is promoted, the stray one repointed',
      group([unreachable], [asMaster, offset(5000)], [offset(10)], downFor(60)),
      expect.objectContaining({ action: 'failover', to: 'cache-2', repoint: ['cache-1'] }),
    ],
    [
      'an unreachable replica is neither candidate nor repointed',
      group([unreachable], [unreachable], [], downFor(60)),
      expect.objectContaining({ action: 'failover', to: 'cache-2', repoint: [] }),
    ],
    [
      'a failover shortly after the last one: wait (flap damping)',
      group([unreachable], [], [], { ...downFor(60), lastFailoverAt: NOW - 120_000 }),
      {
        action: 'wait',
        reason:
          'primary cache-0 is unreachable, but the last failover was 120 s ago (at least 300 s between failovers)',
      },
    ],
    [
      'a failover long after the last one: go',
      group([unreachable], [], [], { ...downFor(60), lastFailoverAt: NOW - 301_000 }),
      expect.objectContaining({ action: 'failover', to: 'cache-1' }),
    ],
    [
      'the old primary returns as a master beside the new one: it rejoins as a replica',
      {
        members: [
          member('cache-0', 0, asMaster, offset(50)),
          member('cache-1', 1, asPrimary),
          member('cache-2', 2, source('cache-1')),
        ],
        primary: 'cache-1',
      },
      {
        action: 'rejoin-as-replica',
        pod: 'cache-0',
        primary: 'cache-1',
        reason: 'cache-0 takes writes but cache-1 is the primary',
      },
    ],
    [
      'a replica following the old primary: it rejoins the new one',
      {
        members: [
          member('cache-0', 0, unreachable),
          member('cache-1', 1, asPrimary),
          member('cache-2', 2, source('cache-0'), linkDown),
        ],
        primary: 'cache-1',
      },
      {
        action: 'rejoin-as-replica',
        pod: 'cache-2',
        primary: 'cache-1',
        reason: 'cache-2 replicates from cache-0 but cache-1 is the primary',
      },
    ],
    [
      'a replica following a server outside the group',
      group([], [source('10.0.0.9:6379')], []),
      expect.objectContaining({
        action: 'rejoin-as-replica',
        pod: 'cache-1',
        reason: 'cache-1 replicates from 10.0.0.9:6379 but cache-0 is the primary',
      }),
    ],
    [
      'a fresh group: every pod started as a primary, the recorded one stays, the others rejoin it',
      group([], [asMaster, offset(0)], [asMaster, offset(0)]),
      expect.objectContaining({ action: 'rejoin-as-replica', pod: 'cache-1', primary: 'cache-0' }),
    ],
    [
      'the recorded primary is a replica of another member: wait (promoting it would drop that one’s writes)',
      group([(m) => ({ ...m, isMaster: false, source: 'cache-1' })], [asMaster], []),
      { action: 'wait', reason: 'the recorded primary cache-0 is a replica of cache-1' },
    ],
    [
      'the recorded primary is not a member (scaled away): wait',
      { ...group([], [], []), primary: 'cache-5' },
      { action: 'wait', reason: 'the recorded primary cache-5 is not a member of the group' },
    ],
    [
      'an unreachable replica beside a healthy primary: nothing (the pod restarts and follows the Service)',
      group([], [unreachable], []),
      { action: 'nothing' },
    ],
  ])('%s', (_name, state, expected) => {
    expect(decideRedisFailover(state, SETTINGS, NOW)).toEqual(expected);
  });
});

describe('decideRedisFailover with automatic failover off (unreachableSeconds 0)', () => {
  const off = { ...SETTINGS, unreachableSeconds: 0 };

  it.each([
    [
      'unreachable for an hour',
      group([unreachable], [], [], downFor(3600)),
      'primary cache-0 is unreachable',
    ],
    ['on a NotReady node', group([nodeNotReady], [], []), 'the node of primary cache-0 is NotReady'],
  ])('waits with the primary %s', (_name, state, why) => {
    expect(decideRedisFailover(state, off, NOW)).toEqual({
      action: 'wait',
      reason: `${why}; automatic failover is off`,
    });
  });

  it('still rejoins a stray primary', () => {
    expect(decideRedisFailover(group([], [asMaster], []), off, NOW)).toMatchObject({
      action: 'rejoin-as-replica',
      pod: 'cache-1',
    });
  });
});

describe('parseInfo', () => {
  it('reads the key:value lines of INFO replication', () => {
    const text =
      '# Replication\r\nrole:slave\r\nmaster_host:shop-cache\r\nmaster_port:6379\r\nmaster_link_status:up\r\nslave_repl_offset:4242\r\n';
    expect(parseInfo(text)).toEqual({
      role: 'slave',
      master_host: 'shop-cache',
      master_port: '6379',
      master_link_status: 'up',
      slave_repl_offset: '4242',
    });
  });
});
