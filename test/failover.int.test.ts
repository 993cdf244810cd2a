// A failover as the API server sees it, with the database servers simulated (kwok's pods run nothing): the
// operator's replication monitor runs against the real API server with a stand-in for the SQL pass. Before the
// failover the pods are labelled by role and the write Service follows the primary StatefulSet's pod; while the
// primary is "down" DatabaseReady says FailingOver; the failover is recorded on the primary StatefulSet, the
// labels move, the write Service's endpoints follow the promoted replica, status names it, and a Failover
// Warning event says what happened. The SQL side of the same pass runs on real MariaDB in
// test/data-tier/failover.svc.test.ts.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller } from '../src/controller/controller.js';
import type { Decision } from '../src/replication/decide.js';
import type { groupPass } from '../src/replication/group-pass.js';
import type { Metrics } from '../src/runtime/metrics.js';
import { applyObj, condition, eventsOf, getObj, type Obj } from './harness/apps.js';
import { createNamespace, deleteNamespace, kubectl } from './harness/cluster.js';
import { eventually } from './harness/wait.js';
import { startTestController } from './harness/controller.js';

const APP = 'shop';
const ROLE = 'scalable.dev/replication-role';
const WITHIN = { timeoutMs: 60_000 };

let ns: string;
let controller: Controller;
let metrics: Metrics;
/** The simulated servers: the pod that died (if any), and whether the monitor may promote yet. */
const sim = { down: undefined as string | undefined, promote: false };

/** Stands in for groupPass: the servers are fine, or the primary is down and, once allowed, is replaced. */
const simulatedPass: typeof groupPass = async (members, primary, _memory, _settings, _cfg, hooks) => {
  const observed = members.map((m) => ({ ...m, reachable: m.pod !== sim.down }));
  const result = (decision: Decision, now = primary) => ({ observed, decision, steps: [], primary: now });
  if (members.find((m) => m.pod === primary)?.demote) {
    const to = members.find((m) => m.pod !== primary && m.host)?.pod;
    if (!to) return result({ action: 'wait', reason: 'no replica has an address yet' });
    const reason = `switchover requested: ${primary} hands over to ${to}, the most advanced replica`;
    await hooks.recordPrimary!(to, reason);
    return result(
      { action: 'failover', from: primary, to, fence: 'read_only', repoint: [], switchover: true, reason },
      to,
    );
  }
  if (sim.down !== primary) return result({ action: 'nothing' });
  if (!sim.promote)
    return result({ action: 'wait', reason: `primary ${primary} is unreachable (simulated)` });
  const to = members.find((m) => m.pod !== primary && m.host)?.pod;
  if (!to) return result({ action: 'wait', reason: 'no replica is reachable' });
  const reason = `primary ${primary} is unreachable (simulated); ${to} is the most advanced reachable replica`;
  await hooks.deletePod(primary);
  await hooks.recordPrimary!(to, reason);
  return result({ action: 'failover', from: primary, to, fence: 'delete-pod', repoint: [], reason }, to);
};

const app = (): Obj => ({
  apiVersion: 'scalable.dev/v1alpha1',
  kind: 'ScalableApp',
  metadata: { name: APP, namespace: ns },
  spec: {
    web: { image: 'registry.k8s.io/pause:3.10' },
    database: { engine: 'mariadb', replicas: 1, failover: { unreachableSeconds: 5 } },
    cache: { replicas: 1, persistence: 'none' },
  },
});

const labelOf = (pod: string) => getObj('Pod', ns, pod)?.metadata.labels?.[ROLE];
/** The pods a Service (default: the database's write Service) sends clients to (from its EndpointSlices). */
function writeEndpoints(service = `${APP}-db-primary`): string[] {
  const selector = `kubernetes.io/service-name=${service}`;
  const out = kubectl(['get', 'endpointslices', '-n', ns, '-l', selector, '-o', 'json']).stdout;
  const slices = JSON.parse(out) as { items: { endpoints?: { targetRef?: { name: string } }[] }[] };
  return slices.items.flatMap((s) => (s.endpoints ?? []).map((e) => e.targetRef!.name)).sort();
}

beforeAll(async () => {
  ns = createNamespace('failover');
  ({ controller, metrics } = await startTestController(ns, {
    replicationIntervalMs: 200,
    replicationPass: simulatedPass,
  }));
  applyObj(app());
}, 60_000);

afterAll(async () => {
  await controller?.stop();
  deleteNamespace(ns);
});

describe('failover, as the API server sees it', () => {
  it('labels the pods by role, and the write Service selects the primary StatefulSet pod', async () => {
    await eventually(
      `the expectations of step 1`,
      () => {
        expect(labelOf(`${APP}-db-primary-0`)).toBe('primary');
        expect(labelOf(`${APP}-db-replica-0`)).toBe('replica');
        expect(writeEndpoints()).toEqual([`${APP}-db-primary-0`]);
        return true;
      },
      WITHIN,
    );
    await eventually(
      `the expectations of step 2`,
      () => {
        expect(
          (getObj('ScalableApp', ns, APP)?.status as { database?: { primary?: unknown } })?.database?.primary,
        ).toMatchObject({
          pod: `${APP}-db-primary-0`,
        });
        return true;
      },
      WITHIN,
    );
  }, 90_000);

  it('while the primary is down, DatabaseReady says FailingOver with the reason', async () => {
    sim.down = `${APP}-db-primary-0`;
    await eventually(
      `the expectations of step 3`,
      () => {
        expect(condition(getObj('ScalableApp', ns, APP), 'DatabaseReady')).toMatchObject({
          status: 'False',
          reason: 'FailingOver',
          message: `main: primary ${APP}-db-primary-0 is unreachable (simulated)`,
        });
        return true;
      },
      WITHIN,
    );
  }, 90_000);

  it('the failover is recorded, labels move, the write Service follows, status and an event say so', async () => {
    sim.promote = true;
    const promoted = `${APP}-db-replica-0`;
    await eventually(
      `the expectations of step 4`,
      () => {
        const sts = getObj('StatefulSet', ns, `${APP}-db-primary`);
        expect(
          (sts?.metadata as { annotations?: Record<string, string> })?.annotations?.['scalable.dev/primary'],
        ).toBe(promoted);
        return true;
      },
      WITHIN,
    );
    await eventually(
      `the expectations of step 5`,
      () => {
        expect(labelOf(promoted)).toBe('primary');
        expect(writeEndpoints()).toEqual([promoted]);
        return true;
      },
      WITHIN,
    );
    // The fenced pod was deleted; the StatefulSet makes it again, and it is labelled a replica.
    await eventually(
      'the recreated pod labelled replica',
      () => labelOf(`${APP}-db-primary-0`) === 'replica',
      WITHIN,
    );
    await eventually(
      `the expectations of step 6`,
      () => {
        const status = getObj('ScalableApp', ns, APP)?.status as
          { database?: { primary?: unknown } } | undefined;
        expect(status?.database?.primary).toMatchObject({
          pod: promoted,
          lastFailover: {
            from: `${APP}-db-primary-0`,
            to: promoted,
            reason: expect.stringMatching(/simulated/),
          },
        });
        expect(condition(getObj('ScalableApp', ns, APP), 'DatabaseReady')?.reason).not.toBe('FailingOver');
        return true;
      },
      WITHIN,
    );
    const events = eventsOf(ns, `involvedObject.name=${APP},reason=Failover`);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'Warning',
      message: expect.stringMatching(new RegExp(`promoted ${promoted} in place of ${APP}-db-primary-0`)),
    });
    expect(await metrics.registry.getSingleMetricAsString('scalableapp_failovers_total')).toMatch(
      /scalableapp_failovers_total\{tier="database",result="promoted"\} 1/,
    );
  }, 120_000);

  it('a pod whose label someone changes by hand is labelled back', async () => {
    kubectl(['label', 'pod', '-n', ns, `${APP}-db-primary-0`, `${ROLE}=primary`, '--overwrite']);
    await eventually(
      'the pod labelled replica again, and the write Service back to the primary alone',
      () => labelOf(`${APP}-db-primary-0`) === 'replica' && writeEndpoints().join() === `${APP}-db-replica-0`,
      WITHIN,
    );
  }, 60_000);

  it('Redis replicas: the first pod is labelled primary and the client Service selects it alone', async () => {
    await eventually(
      'the Redis pods labelled',
      () =>
        labelOf(`${APP}-cache-0`) === 'primary' &&
        labelOf(`${APP}-cache-1`) === 'replica' &&
        writeEndpoints(`${APP}-cache`).join() === `${APP}-cache-0`,
      WITHIN,
    );
  }, 60_000);

  it('a planned switchover: the demote annotation on the primary pod moves the primary, and is removed', async () => {
    // The old primary's server answers again (else the simulation would fail over back to the replica at once).
    sim.down = undefined;
    const before = `${APP}-db-replica-0`;
    kubectl(['annotate', 'pod', '-n', ns, before, 'scalable.dev/demote=true']);
    await eventually(
      'the primary moved back to the primary StatefulSet pod, the annotation removed',
      () =>
        labelOf(`${APP}-db-primary-0`) === 'primary' &&
        labelOf(before) === 'replica' &&
        writeEndpoints().join() === `${APP}-db-primary-0` &&
        (getObj('Pod', ns, before)?.metadata as { annotations?: Record<string, string> }).annotations?.[
          'scalable.dev/demote'
        ] === undefined,
      WITHIN,
    );
    const events = eventsOf(ns, `involvedObject.name=${APP},reason=Switchover`);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'Normal' });
  }, 120_000);
});
