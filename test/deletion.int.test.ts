// database.deletionPolicy on the API server: deleting an app with `Delete` removes its credentials Secret (owned by
// the app) and its volumes (the StatefulSets' PVC retention policy, carried out by the StatefulSet controller and
// the garbage collector); with `Retain` both stay, and the app created again gets the same passwords and volumes.
// kwok's fake provisioner binds the PVCs.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { OperatorHandle } from '../src/operator.js';
import { applyObj, children, condition, getObj, type Obj } from './harness/apps.js';
import { createNamespace, deleteNamespace, kubectl } from './harness/cluster.js';
import { startInProcess } from './harness/operator.js';
import { eventually, sleep } from './harness/wait.js';

let ns: string;
let op: OperatorHandle;

beforeAll(async () => {
  ns = createNamespace('deletion');
  op = await startInProcess(ns);
}, 60_000);

afterAll(async () => {
  await op?.stop();
  deleteNamespace(ns);
});

const app = (name: string, deletionPolicy: 'Delete' | 'Retain'): Obj => ({
  apiVersion: 'scalable.dev/v1alpha1',
  kind: 'ScalableApp',
  metadata: { name, namespace: ns },
  spec: {
    web: { image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', port: 8080 },
    cache: { persistence: 'aof' },
    database: { engine: 'mariadb', replicas: 1, deletionPolicy },
  },
});

type Pvc = Obj & { status?: { phase?: string }; metadata: Obj['metadata'] & { deletionTimestamp?: string } };
/** The app's volumes: the StatefulSet controller names them <template>-<statefulset>-<ordinal>. */
const volumes = (name: string): Pvc[] =>
  (JSON.parse(kubectl(['-n', ns, 'get', 'pvc', '-o', 'json']).stdout) as { items: Pvc[] }).items.filter((p) =>
    p.metadata.name.includes(`-${name}-`),
  );
const ready = (name: string) => condition(getObj('sapp', ns, name), 'Ready')?.status === 'True';
const secretData = (name: string) =>
  Object.fromEntries(
    Object.entries((getObj('secret', ns, name) as unknown as { data: Record<string, string> }).data).map(
      ([k, v]) => [k, Buffer.from(v, 'base64').toString()],
    ),
  );

describe('deletionPolicy', () => {
  let keptPasswords: Record<string, string>;
  let keptVolumes: Map<string, string>;

  it('sets each StatefulSet volume retention and the credentials owner from the policy', async () => {
    applyObj(app('gone', 'Delete'));
    applyObj(app('kept', 'Retain'));
    await eventually('both Ready', () => ready('gone') && ready('kept'), { timeoutMs: 90_000 });
    for (const [name, policy] of [
      ['gone', 'Delete'],
      ['kept', 'Retain'],
    ] as const) {
      const sets = children(ns, name).filter((o) => o.kind === 'StatefulSet');
      expect(sets.map((s) => s.metadata.name).sort()).toEqual(
        [`${name}-cache`, `${name}-db-primary`, `${name}-db-replica`].sort(),
      );
      for (const s of sets) {
        const retention = (s.spec as { persistentVolumeClaimRetentionPolicy?: { whenDeleted?: string } })
          .persistentVolumeClaimRetentionPolicy;
        expect({ set: s.metadata.name, whenDeleted: retention?.whenDeleted }).toEqual({
          set: s.metadata.name,
          whenDeleted: policy,
        });
      }
      // One bound volume per pod: Redis, the primary, the replica.
      await eventually(`${name}'s volumes bound`, () => {
        const pvcs = volumes(name);
        return pvcs.length === 3 && pvcs.every((p) => p.status?.phase === 'Bound');
      });
    }
    expect(getObj('secret', ns, 'gone-credentials')!.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'ScalableApp', name: 'gone', controller: true }),
    ]);
    expect(getObj('secret', ns, 'kept-credentials')!.metadata.ownerReferences).toBeUndefined();
    keptPasswords = secretData('kept-credentials');
    keptVolumes = new Map(volumes('kept').map((p) => [p.metadata.name, p.metadata.uid!]));
  }, 120_000);

  it('Delete removes the credentials and the volumes with the app; Retain keeps both', async () => {
    kubectl(['-n', ns, 'delete', 'sapp', 'gone', 'kept', '--wait=true', '--timeout=60s']);
    await eventually('gone: credentials deleted', () => !getObj('secret', ns, 'gone-credentials'), {
      timeoutMs: 60_000,
    });
    await eventually('gone: volumes deleted', () => volumes('gone').length === 0, { timeoutMs: 90_000 });
    await eventually(
      'kept: workloads deleted',
      () => children(ns, 'kept').every((o) => o.kind === 'Secret' && o.metadata.name === 'kept-credentials'),
      { timeoutMs: 60_000 },
    );
    await sleep(2000); // as long again for anything that would still delete them
    expect(secretData('kept-credentials')).toEqual(keptPasswords);
    const left = volumes('kept');
    expect(new Map(left.map((p) => [p.metadata.name, p.metadata.uid!]))).toEqual(keptVolumes);
    expect(left.filter((p) => p.metadata.deletionTimestamp)).toEqual([]);
  }, 180_000);

  it('Retain: the app created again gets the same passwords and the same volumes', async () => {
    applyObj(app('kept', 'Retain'));
    await eventually('kept Ready again', () => ready('kept'), { timeoutMs: 90_000 });
    expect(secretData('kept-credentials')).toEqual(keptPasswords);
    const binding = secretData('kept-binding');
    expect(decodeURIComponent(new URL(binding.DATABASE_WRITE_URL!).password)).toBe(
      keptPasswords.MYSQL_APP_PASSWORD,
    );
    expect(new Map(volumes('kept').map((p) => [p.metadata.name, p.metadata.uid!]))).toEqual(keptVolumes);
  }, 120_000);
});
