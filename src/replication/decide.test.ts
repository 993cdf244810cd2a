import { describe, expect, it } from '@jest/globals';
import {
  type Decision,
  decideFailover,
  type FailoverSettings,
  type GroupState,
  type MemberState,
} from './decide.js';
import { parseMariaDB } from './gtid.js';

const SETTINGS: FailoverSettings = {
  unreachableSeconds: 10,
  minSecondsBetweenFailovers: 300,
  maxLagSeconds: 30,
};
const NOW = 1_000_000_000;

type Mod = (m: MemberState) => MemberState;
const member = (pod: string, ordinal: number, ...mods: Mod[]): MemberState =>
  mods.reduce((m, mod) => mod(m), {
    pod,
    ordinal,
    reachable: true,
    ready: true,
    nodeReady: true,
    role: 'replica',
    gtid: parseMariaDB('0-1-100'),
    lagSeconds: 0,
    readOnly: true,
    source: 'db-0',
  } as MemberState);

const gtid =
  (text: string): Mod =>
  (m) => ({ ...m, gtid: parseMariaDB(text) });
const lag =
  (s: number | undefined): Mod =>
  (m) => ({ ...m, lagSeconds: s });
const unreachable: Mod = ({ gtid: _g, lagSeconds: _l, readOnly: _r, source: _s, ...m }) => ({
  ...m,
  reachable: false,
  ready: false,
});
const nodeNotReady: Mod = (m) => ({ ...m, nodeReady: false, ready: false });
const asPrimary: Mod = ({ source: _s, ...m }) => ({
  ...m,
  role: 'primary',
  readOnly: false,
  lagSeconds: undefined,
});
const writable: Mod = (m) => ({ ...m, readOnly: false });
const source =
  (pod: string | undefined): Mod =>
  (m) => ({ ...m, source: pod });

/** db-0 is the primary (unless a case says otherwise), db-1 and db-2 its replicas. */
const group = (primary: Mod[], r1: Mod[], r2: Mod[], extra: Partial<GroupState> = {}): GroupState => ({
  members: [member('db-0', 0, asPrimary, ...primary), member('db-1', 1, ...r1), member('db-2', 2, ...r2)],
  primary: 'db-0',
  ...extra,
});
const downFor = (s: number): Partial<GroupState> => ({ primaryDownSince: NOW - s * 1000 });

const cases: [string, GroupState, Decision | Record<string, unknown>, FailoverSettings?][] = [
  ['a healthy group needs nothing', group([], [], []), { action: 'nothing' }],
  [
    'a primary unreachable for less than the setting is waited for, and the reason says how long',
    group([unreachable], [], [], downFor(4)),
    { action: 'wait', reason: 'primary db-0 is unreachable for 4 s of the 10 s before failover' },
  ],
  [
    'a primary unreachable for the setting is replaced by the most advanced replica; the other follows it',
    group([unreachable], [gtid('0-1-98')], [gtid('0-1-100')], downFor(10)),
    { action: 'failover', from: 'db-0', to: 'db-2', fence: 'delete-pod', repoint: ['db-1'] },
  ],
  [
    'replicas with the same transactions: the one that lags least is promoted',
    group([unreachable], [lag(5)], [lag(1)], downFor(11)),
    { action: 'failover', to: 'db-2', repoint: ['db-1'] },
  ],
  [
    'replicas with the same transactions and lag: the lowest ordinal is promoted',
    group([unreachable], [], [], downFor(11)),
    { action: 'failover', to: 'db-1', repoint: ['db-2'] },
  ],
  [
    'the most advanced replica wins even when it lags more',
    group([unreachable], [gtid('0-1-99'), lag(0)], [gtid('0-1-100'), lag(20)], downFor(11)),
    { action: 'failover', to: 'db-2' },
  ],
  [
    'when every replica lags, the most advanced is still promoted and the reason says they all lag',
    group([unreachable], [gtid('0-1-90'), lag(120)], [gtid('0-1-95'), lag(60)], downFor(11)),
    {
      action: 'failover',
      to: 'db-2',
      reason: expect.stringMatching(/every replica lags more than 30 s/),
    },
  ],
  [
    'a replica whose replication stopped (no lag known) counts as lagging but may still be promoted',
    group([unreachable], [lag(undefined)], [unreachable], downFor(11)),
    { action: 'failover', to: 'db-1', repoint: [], reason: expect.stringMatching(/every replica lags/) },
  ],
  [
    'when no replica is reachable there is nothing to promote: wait, and say so',
    group([unreachable], [unreachable], [unreachable], downFor(60)),
    { action: 'wait', reason: 'primary db-0 is unreachable and no replica is reachable' },
  ],
  [
    'an unreachable replica is neither promoted nor repointed',
    group([unreachable], [unreachable], [], downFor(11)),
    { action: 'failover', to: 'db-2', repoint: [] },
  ],
  [
    'a primary on a NotReady node that still answers is fenced with read_only, without waiting for the setting',
    group([nodeNotReady], [], [], downFor(0)),
    {
      action: 'failover',
      to: 'db-1',
      fence: 'read_only',
      reason: expect.stringMatching(/node of primary db-0/),
    },
  ],
  [
    'a primary on a NotReady node that does not answer is fenced by deleting its pod',
    group([nodeNotReady, unreachable], [], [], downFor(1)),
    { action: 'failover', fence: 'delete-pod' },
  ],
  [
    'a primary that flaps again soon after a failover is not failed over again (flap damping)',
    group([unreachable], [], [], { ...downFor(30), lastFailoverAt: NOW - 60_000 }),
    {
      action: 'wait',
      reason:
        'primary db-0 is unreachable, but the last failover was 60 s ago (at least 300 s between failovers)',
    },
  ],
  [
    'once the damping time has passed, failover proceeds',
    group([unreachable], [], [], { ...downFor(30), lastFailoverAt: NOW - 301_000 }),
    { action: 'failover', to: 'db-1' },
  ],
  [
    'a setting of 0 turns automatic failover off',
    group([unreachable], [], [], downFor(3600)),
    { action: 'wait', reason: 'primary db-0 is unreachable; automatic failover is off' },
    { ...SETTINGS, unreachableSeconds: 0 },
  ],
  [
    'replicas that each hold transactions the other lacks are not promoted over each other: wait',
    group([unreachable], [gtid('0-1-100,0-5-3')], [gtid('0-1-101')], downFor(11)),
    { action: 'wait', reason: expect.stringMatching(/db-1 and db-2 each hold transactions the other lacks/) },
  ],
  [
    'a member flagged for rebuild is never a candidate, and its errant transactions do not block the others',
    group([unreachable], [gtid('0-1-100,0-5-3')], [gtid('0-1-101')], {
      ...downFor(11),
      flaggedForRebuild: ['db-1'],
    }),
    { action: 'failover', to: 'db-2', repoint: [] },
  ],
  [
    'a recorded primary that refuses writes (every server starts read-only) is opened',
    group([(m) => ({ ...m, readOnly: true })], [], []),
    { action: 'open', pod: 'db-0', reason: 'db-0 is the recorded primary and refuses writes' },
  ],
  [
    'a new group: the recorded primary is opened before its replicas have copied it',
    group([(m) => ({ ...m, readOnly: true })], [unreachable], [unreachable]),
    { action: 'open', pod: 'db-0' },
  ],
  [
    'killed after promoting db-1 but before recording it: db-1 is fenced first, the recorded primary opened after',
    group([(m) => ({ ...m, readOnly: true })], [writable, source(undefined)], []),
    { action: 'rejoin-as-replica', pod: 'db-1', primary: 'db-0' },
  ],
  [
    'a recorded primary that refuses writes and still follows another server says so (it is promoted)',
    group([(m) => ({ ...m, readOnly: true, source: 'db-1' })], [], []),
    {
      action: 'open',
      pod: 'db-0',
      following: 'db-1',
      reason: 'db-0 is the recorded primary and refuses writes (it replicates from db-1)',
    },
  ],
  [
    'a requested switchover hands over to the most advanced replica, fencing with read_only, without waiting',
    group([], [gtid('0-1-99')], [], { switchoverRequested: true }),
    {
      action: 'failover',
      from: 'db-0',
      to: 'db-2',
      fence: 'read_only',
      repoint: ['db-1'],
      switchover: true,
      reason: 'switchover requested: db-0 hands over to db-2, the most advanced replica',
    },
  ],
  [
    'a requested switchover ignores flap damping and works with automatic failover off',
    group([], [], [], { switchoverRequested: true, lastFailoverAt: NOW - 1000 }),
    { action: 'failover', to: 'db-1', switchover: true },
    { ...SETTINGS, unreachableSeconds: 0 },
  ],
  [
    'a requested switchover with no replica following the primary waits, and says so',
    group([], [unreachable], [unreachable], { switchoverRequested: true }),
    { action: 'wait', reason: 'switchover of db-0 requested, but no replica following it is reachable' },
  ],
  [
    'a requested switchover waits for a stray to be fenced first',
    group([], [writable], [], { switchoverRequested: true }),
    { action: 'rejoin-as-replica', pod: 'db-1' },
  ],
  [
    'a recorded primary that is no member is waited on, never guessed',
    { ...group([], [], []), primary: 'db-9' },
    { action: 'wait', reason: 'the recorded primary db-9 is not a member of the group' },
  ],
];

// After a failover from db-0 to db-1: db-1 is the primary, db-2 follows it, db-0 comes back.
const afterFailover = (old: Mod[], r2: Mod[] = []): GroupState => ({
  members: [
    member('db-0', 0, asPrimary, ...old),
    member('db-1', 1, asPrimary, gtid('0-1-100,0-11-120')),
    member('db-2', 2, gtid('0-1-100,0-11-120'), source('db-1'), ...r2),
  ],
  primary: 'db-1',
});

const returning: [string, GroupState, Decision | Record<string, unknown>][] = [
  [
    'the old primary returning with nothing the new primary lacks rejoins as a replica (it still takes writes)',
    afterFailover([gtid('0-1-100')]),
    {
      action: 'rejoin-as-replica',
      pod: 'db-0',
      primary: 'db-1',
      reason: 'db-0 takes writes but db-1 is the primary',
    },
  ],
  [
    'the old primary returning with transactions the new primary lacks is rebuilt, never merged',
    afterFailover([gtid('0-1-102')]),
    { action: 'rebuild', pod: 'db-0', primary: 'db-1', errant: '0-1:101-102' },
  ],
  [
    'an old primary already fenced (read_only) but following nobody still rejoins',
    afterFailover([gtid('0-1-100'), (m) => ({ ...m, readOnly: true })]),
    {
      action: 'rejoin-as-replica',
      pod: 'db-0',
      reason: 'db-0 replicates from nobody but db-1 is the primary',
    },
  ],
  [
    'a replica still following the old primary is repointed',
    afterFailover([unreachable], [source('db-0')]),
    { action: 'rejoin-as-replica', pod: 'db-2', reason: 'db-2 replicates from db-0 but db-1 is the primary' },
  ],
  [
    'a replica that takes writes is fenced and repointed',
    afterFailover([unreachable], [writable]),
    { action: 'rejoin-as-replica', pod: 'db-2' },
  ],
  [
    'a replica that received transactions the new primary never had is rebuilt',
    afterFailover([unreachable], [gtid('0-1-101')]),
    { action: 'rebuild', pod: 'db-2', errant: '0-1:101' },
  ],
  [
    'while the old primary stays away, a group whose replica follows the new primary needs nothing',
    afterFailover([unreachable]),
    { action: 'nothing' },
  ],
];

// MariaDB, after a switchover from db-0 (server 2) to db-1 (server 3), a copy: db-1 was bootstrapped from a
// dump of db-0 taken at 0-2-450, caught up to 0-2-500 and took over (0-3-501…520). db-0's history names server 1,
// the group's first primary, which wrote up to 319 before server 2 took over.
const afterSwitchoverToACopy = (old: string, copy: string): GroupState => ({
  members: [
    member('db-0', 0, asPrimary, gtid(old)),
    member('db-1', 1, asPrimary, gtid(copy)),
    member('db-2', 2, gtid(copy), source('db-1')),
  ],
  primary: 'db-1',
});

const toACopy: [string, GroupState, Decision | Record<string, unknown>][] = [
  [
    "the old primary rejoins a copy that took the source's history with it (gtid_binlog_state as of the dump)",
    afterSwitchoverToACopy('0-1-319,0-2-500', '0-1-319,0-2-500,0-3-520'),
    { action: 'rejoin-as-replica', pod: 'db-0', primary: 'db-1' },
  ],
  [
    'a copy that took its position only lacks the first primary: the old primary would look errant and be copied again',
    afterSwitchoverToACopy('0-1-319,0-2-500', '0-2-500,0-3-520'),
    { action: 'rebuild', pod: 'db-0', errant: '0-1:1-319' },
  ],
  [
    "an old primary that wrote 0-1-320…400 after the failover point, while the new history went on 0-2-320…500, is errant though every sequence number of it is below the new primary's",
    afterSwitchoverToACopy('0-1-400', '0-1-319,0-2-500,0-3-520'),
    { action: 'rebuild', pod: 'db-0', primary: 'db-1', errant: '0-1:320-400' },
  ],
];

describe('decideFailover', () => {
  it.each(cases)('%s', (_name, state, want, settings = SETTINGS) => {
    expect(decideFailover(state, settings, NOW)).toMatchObject(want);
  });

  it.each([...returning, ...toACopy])('%s', (_name, state, want) => {
    expect(decideFailover(state, SETTINGS, NOW)).toMatchObject(want);
  });

  it('a failover decision names exactly the fields the executor needs', () => {
    expect(decideFailover(group([unreachable], [], [], downFor(11)), SETTINGS, NOW)).toEqual({
      action: 'failover',
      from: 'db-0',
      to: 'db-1',
      fence: 'delete-pod',
      repoint: ['db-2'],
      reason: 'primary db-0 is unreachable; db-1 is the most advanced reachable replica',
    });
  });
});
