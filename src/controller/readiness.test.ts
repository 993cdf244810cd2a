import { describe, expect, it } from '@jest/globals';
import { workloadState } from './readiness.js';

type Live = NonNullable<Parameters<typeof workloadState>[0]>;

/** A workload at generation 2, observed, with `replicas` wanted and every pod ready and updated; then `edit`. */
function workload(edit: (w: Live & { status: NonNullable<Live['status']> }) => void = () => {}): Live {
  const w = {
    kind: 'Deployment',
    metadata: { name: 'shop-web', generation: 2 },
    spec: { replicas: 3 },
    status: {
      observedGeneration: 2,
      replicas: 3,
      readyReplicas: 3,
      updatedReplicas: 3,
      availableReplicas: 3,
    },
  };
  edit(w);
  return w;
}

describe('workloadState', () => {
  it.each([
    {
      name: 'a workload that does not exist is not ready and still progressing, not failed',
      live: undefined,
      want: { exists: false, ready: false, progressing: true, failed: false, desired: 0 },
      message: 'Deployment shop-web does not exist yet',
    },
    {
      name: 'every pod ready and updated at the observed generation is ready',
      live: workload(),
      want: { exists: true, ready: true, progressing: false, failed: false, desired: 3, readyReplicas: 3 },
      message: 'Deployment shop-web: 3/3 ready',
    },
    {
      name: 'a spec change the workload controller has not yet observed is not ready, whatever the counts say',
      live: workload((w) => (w.status.observedGeneration = 1)),
      want: { ready: false, progressing: true, failed: false },
      message: 'Deployment shop-web: 3/3 ready, spec change not yet observed',
    },
    {
      name: 'a rollout with old pods left is not ready and says how many are updated',
      live: workload((w) => (w.status.updatedReplicas = 1)),
      want: { ready: false, progressing: true },
      message: 'Deployment shop-web: 3/3 ready, 1/3 updated',
    },
    {
      name: 'an extra pod still terminating after a scale-down is not ready yet',
      live: workload((w) => (w.status.replicas = 4)),
      want: { ready: false, replicas: 4 },
      message: 'Deployment shop-web: 3/3 ready',
    },
    {
      name: 'a missing spec.replicas means the API default of one pod',
      live: workload((w) => {
        delete w.spec!.replicas;
        Object.assign(w.status, { replicas: 1, readyReplicas: 1, updatedReplicas: 1 });
      }),
      want: { ready: true, desired: 1 },
      message: 'Deployment shop-web: 1/1 ready',
    },
    {
      name: 'a rollout past its progress deadline has failed, with the controller’s message',
      live: workload((w) => {
        w.status.readyReplicas = 1;
        w.status.conditions = [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: 'ReplicaSet "shop-web-1" has timed out progressing.',
          },
        ];
      }),
      want: { ready: false, progressing: false, failed: true },
      message: 'Deployment shop-web: 1/3 ready (ReplicaSet "shop-web-1" has timed out progressing.)',
    },
    {
      name: 'a replica failure (e.g. a quota refusing pods) has failed',
      live: workload((w) => {
        w.status.readyReplicas = 2;
        w.status.conditions = [
          { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'exceeded quota' },
        ];
      }),
      want: { ready: false, failed: true },
      message: 'Deployment shop-web: 2/3 ready (exceeded quota)',
    },
    {
      name: 'a past failure condition does not count once every pod is ready',
      live: workload((w) => {
        w.status.conditions = [
          { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'old news' },
        ];
      }),
      want: { ready: true, failed: false },
      message: 'Deployment shop-web: 3/3 ready (old news)',
    },
    {
      name: 'a StatefulSet whose pods are not all on the update revision is not ready',
      live: workload((w) => {
        w.kind = 'StatefulSet';
        Object.assign(w.status, { currentRevision: 'shop-db-1', updateRevision: 'shop-db-2' });
      }),
      want: { ready: false, progressing: true },
      message: 'Deployment shop-web: 3/3 ready',
    },
    {
      name: 'a StatefulSet scaled to zero is ready though its revisions differ',
      live: workload((w) => {
        w.kind = 'StatefulSet';
        w.spec!.replicas = 0;
        Object.assign(w.status, {
          replicas: 0,
          readyReplicas: 0,
          updatedReplicas: 0,
          currentRevision: 'shop-db-1',
          updateRevision: 'shop-db-2',
        });
      }),
      want: { ready: true, desired: 0 },
      message: 'Deployment shop-web: 0/0 ready',
    },
  ])('$name', ({ live, want, message }) => {
    const state = workloadState(live, 'Deployment shop-web');
    expect(state).toMatchObject(want);
    expect(state.message).toBe(message);
  });
});
