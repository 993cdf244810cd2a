import { describe, expect, it } from '@jest/globals';
import { database, leaving, pod, ready, role, tier } from './fixtures.js';
import { databaseGroups, NoPodError, pickPod, podName, podsOf } from './pods.js';

describe('pickPod', () => {
  const cases: {
    name: string;
    pods: ReturnType<typeof pod>[];
    want: 'primary' | 'replica';
    recorded?: string;
    expected: string;
  }[] = [
    {
      name: 'the primary is the pod labelled primary, whatever its StatefulSet (after a failover a replica pod is)',
      pods: [pod('db-primary-0', role('replica'), ready()), pod('db-replica-0', role('primary'), ready())],
      want: 'primary',
      recorded: 'db-replica-0',
      expected: 'db-replica-0',
    },
    {
      name: 'the label wins over a stale record: the write Service selects by the label',
      pods: [pod('db-primary-0', role('primary')), pod('db-replica-0', role('replica'))],
      want: 'primary',
      recorded: 'db-replica-0',
      expected: 'db-primary-0',
    },
    {
      name: 'while two pods are labelled primary (relabelling after a failover), the recorded one',
      pods: [pod('db-primary-0', role('primary')), pod('db-replica-0', role('primary'))],
      want: 'primary',
      recorded: 'db-replica-0',
      expected: 'db-replica-0',
    },
    {
      name: 'before any pod is labelled, the recorded primary',
      pods: [pod('db-primary-0'), pod('db-replica-0')],
      want: 'primary',
      recorded: 'db-primary-0',
      expected: 'db-primary-0',
    },
    {
      name: 'a replica that is ready before one that is not, whatever the names',
      pods: [
        pod('db-primary-0', role('primary')),
        pod('db-replica-0', role('replica')),
        pod('db-replica-1', role('replica'), ready()),
      ],
      want: 'replica',
      expected: 'db-replica-1',
    },
    {
      name: 'among ready replicas, the first by name',
      pods: [pod('db-replica-1', role('replica'), ready()), pod('db-replica-0', role('replica'), ready())],
      want: 'replica',
      expected: 'db-replica-0',
    },
    {
      name: 'never a pod that is being deleted',
      pods: [pod('db-replica-0', role('replica'), ready(), leaving), pod('db-replica-1', role('replica'))],
      want: 'replica',
      expected: 'db-replica-1',
    },
  ];
  it.each(cases)('$name', ({ pods, want, recorded, expected }) => {
    expect(podName(pickPod({ pods, want, recordedPrimary: recorded, what: 'the database' }))).toBe(expected);
  });

  it('says which pods there are when none is labelled primary and none is recorded', () => {
    expect(() => pickPod({ pods: [pod('db-primary-0')], want: 'primary', what: 'shard 1' })).toThrow(
      new NoPodError(
        'shard 1 has no pod labelled scalable.dev/replication-role=primary yet (pods: db-primary-0): the operator labels the primary once it knows it',
      ),
    );
  });

  it('says the group has no replica', () => {
    expect(() =>
      pickPod({ pods: [pod('db-primary-0', role('primary'))], want: 'replica', what: 'the cache' }),
    ).toThrow('the cache has no replica pod (pods: db-primary-0)');
  });
});

describe('tiers and groups', () => {
  const pods = [
    pod('shop-web-b', tier('web')),
    pod('shop-web-a', tier('web')),
    pod('shop-db-shard-1-primary-0', database('1')),
    pod('shop-db-shard-0-primary-0', database('0')),
    pod('shop-db-replica-0', database()),
    pod('shop-db-primary-0', database()),
    pod('shop-cache-0', tier('cache')),
  ];

  it('lists a tier by name', () => {
    expect(podsOf(pods, 'web').map(podName)).toEqual(['shop-web-a', 'shop-web-b']);
    expect(podsOf(pods, 'cache').map(podName)).toEqual(['shop-cache-0']);
    expect(podsOf(pods, 'workers')).toEqual([]);
  });

  it('groups the database pods: main first, then the shards by index', () => {
    const groups = databaseGroups(pods);
    expect([...groups.keys()]).toEqual(['main', '0', '1']);
    expect(groups.get('main')!.map(podName)).toEqual(['shop-db-primary-0', 'shop-db-replica-0']);
  });
});
