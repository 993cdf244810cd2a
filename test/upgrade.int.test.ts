// Upgrading from the version before failover (91a6231): its objects for the MariaDB shop, as that version made
// them (test/fixtures/upgrade/, from its render command), are in the cluster with their volumes; then this
// version's operator takes over. Every StatefulSet is changed in place (same uid) and every volume claim is
// kept (same uid); the write and read Services now select by the replication-role label and the pods carry it;
// the credentials keep every password and gain the operator's; the app is Ready.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { applyObj, condition, example, getObj, type Obj } from './harness/apps.js';
import { createNamespace, deleteNamespace, kubectl, REPO_ROOT } from './harness/cluster.js';
import { startInProcess } from './harness/operator.js';
import { eventually } from './harness/wait.js';
import type { OperatorHandle } from '../src/operator.js';

const APP = 'shop';
const PLACEHOLDER_UID = '00000000-0000-0000-0000-000000000000';
const FIXTURE = `${REPO_ROOT}/test/fixtures/upgrade/shop-mariadb.91a6231.yaml`;
const WITHIN = { timeoutMs: 120_000, intervalMs: 1000 };

let ns: string;
let op: OperatorHandle | undefined;

interface Listed {
  items: { metadata: { name: string; uid: string }; spec?: { selector?: Record<string, string> } }[];
}
const list = (kind: string, selector = `app.kubernetes.io/instance=${APP}`) =>
  (JSON.parse(kubectl(['-n', ns, 'get', kind, '-l', selector, '-o', 'json']).stdout) as Listed).items;
const uids = (kind: string, selector?: string) =>
  Object.fromEntries(list(kind, selector).map((o) => [o.metadata.name, o.metadata.uid]));

let before: { statefulSets: Record<string, string>; claims: Record<string, string>; secret: Obj };

beforeAll(async () => {
  ns = createNamespace('upgrade');
  // The app, paused, so that nothing reconciles it while the previous version's objects go in.
  const app = example('shop-mariadb.yaml', ns, APP);
  applyObj({ ...app, spec: { ...app.spec, paused: true } });
  const uid = getObj('sapp', ns, APP)!.metadata.uid!;
  const text = readFileSync(FIXTURE, 'utf8')
    .replaceAll(PLACEHOLDER_UID, uid)
    .replaceAll('namespace: shop', `namespace: ${ns}`);
  const objects = parseAllDocuments(text)
    .map((d) => d.toJSON() as Obj | null)
    .filter((o): o is Obj => o !== null);
  kubectl(['apply', '--server-side', '--field-manager=scalable-app-operator', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  });
  // Its pods run and its volumes are bound, as on a cluster where it has been running.
  await eventually(
    'the previous version’s database and cache pods running',
    () =>
      list('pods').filter((p) => p.metadata.name.includes('-db-') || p.metadata.name.includes('-cache-'))
        .length >= 6,
    WITHIN,
  );
  await eventually('its volume claims', () => list('pvc', '').length >= 6, WITHIN);
  before = {
    statefulSets: uids('statefulsets'),
    claims: uids('pvc', ''),
    secret: getObj('secret', ns, `${APP}-credentials`)!,
  };
  op = await startInProcess(ns);
  applyObj(app); // unpaused: this version takes over
}, 240_000);

afterAll(async () => {
  await op?.stop();
  deleteNamespace(ns);
});

describe('upgrade from the version before failover', () => {
  it('reaches Ready', async () => {
    await eventually('Ready', () => condition(getObj('sapp', ns, APP), 'Ready')?.status === 'True', {
      timeoutMs: 180_000,
      intervalMs: 1000,
    });
  }, 200_000);

  it('keeps every StatefulSet (changed in place) and every volume claim', () => {
    expect(Object.keys(before.statefulSets).length).toBeGreaterThanOrEqual(5);
    expect(uids('statefulsets')).toEqual(before.statefulSets);
    const claims = uids('pvc', '');
    for (const [name, uid] of Object.entries(before.claims)) expect(claims[name]).toBe(uid);
  });

  it('routes by the replication-role label: the write Service to the primary pod, the pods labelled', async () => {
    const write = getObj('service', ns, `${APP}-db-primary`)!.spec as { selector: Record<string, string> };
    expect(write.selector['scalable.dev/replication-role']).toBe('primary');
    const roles = () =>
      Object.fromEntries(
        list('pods', `app.kubernetes.io/instance=${APP},app.kubernetes.io/component=database`).map((p) => [
          p.metadata.name,
          (getObj('pod', ns, p.metadata.name)!.metadata.labels ?? {})['scalable.dev/replication-role'],
        ]),
      );
    // The pods roll (their template changed); each new pod is labelled at the monitor's next pass.
    await eventually(
      'every database pod labelled, the primaries as primary',
      () => {
        const r = roles();
        return (
          r[`${APP}-db-primary-0`] === 'primary' &&
          r[`${APP}-db-shard-0-primary-0`] === 'primary' &&
          Object.values(r).every((v) => v === 'primary' || v === 'replica')
        );
      },
      WITHIN,
    );
  }, 150_000);

  it('keeps every password of the credentials and adds the operator’s', () => {
    const data = (o: Obj) => (o as unknown as { data: Record<string, string> }).data;
    const now = data(getObj('secret', ns, `${APP}-credentials`)!);
    for (const [k, v] of Object.entries(data(before.secret))) expect(now[k]).toBe(v);
    expect(now.MYSQL_OPERATOR_PASSWORD).toBeDefined();
    expect(Object.keys(data(before.secret))).not.toContain('MYSQL_OPERATOR_PASSWORD');
  });
});
