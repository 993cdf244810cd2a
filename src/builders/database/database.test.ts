import { describe, expect, it } from '@jest/globals';
import type { V1Container, V1PodDisruptionBudget, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import { buildContext, editedContext, TEST_CREDENTIALS } from '../../../test/fixtures/build-context.js';
import { type Modifier, withDatabase, withName, withShards } from '../../../test/fixtures/scalable-app.js';
import { DEFAULT_IMAGES, ENGINES, type ScalableApp } from '../../api/v1alpha1/index.js';
import { CREDENTIAL_KEYS } from '../credentials.js';
import { REPLICATION_ROLE_LABEL, ROLE_LABEL, type ReplicationRole, SHARD_LABEL } from '../meta.js';
import { MAX_STATEFULSET_NAME } from '../names.js';
import type { K8sObject } from '../types.js';
import { CONFIG_HASH_ANNOTATION } from '../data-tier/stateful.js';
import { buildDatabase, databaseEndpoints } from './index.js';

type StatefulSetSpec = NonNullable<V1StatefulSet['spec']>;

const build = (...mods: Modifier[]) => buildDatabase(buildContext(...mods));
const key = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;
const byKey = (os: K8sObject[], k: string) => {
  const found = os.find((o) => key(o) === k);
  if (!found) throw new Error(`no ${k} in ${os.map(key).join(', ')}`);
  return found;
};
const stsSpec = (os: K8sObject[], name: string) => byKey(os, `StatefulSet/${name}`).spec as StatefulSetSpec;
const statefulSets = (os: K8sObject[]) => os.filter((o) => o.kind === 'StatefulSet');
const container = (spec: StatefulSetSpec): V1Container => spec.template.spec!.containers[0]!;
const envOf = (c: V1Container) =>
  Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));
const configData = (os: K8sObject[]) => byKey(os, 'ConfigMap/shop-db-config').data as Record<string, string>;

/** Every pod's server-id: SERVER_ID_BASE of its init container plus its ordinal. */
function serverIds(os: K8sObject[]): number[] {
  return statefulSets(os).flatMap((o) => {
    const spec = o.spec as StatefulSetSpec;
    const base = Number(envOf(container(spec)).SERVER_ID_BASE);
    return Array.from({ length: spec.replicas! }, (_, ordinal) => base + ordinal);
  });
}

/** Whether a Service's selector selects the pods of a StatefulSet. */
/** Whether the Service selects a pod of the StatefulSet, labelled by the operator as serving `role` (if any). */
const selects = (svc: K8sObject, spec: StatefulSetSpec, role?: ReplicationRole) => {
  const labels: Record<string, string> = {
    ...spec.template.metadata!.labels!,
    ...(role ? { [REPLICATION_ROLE_LABEL]: role } : {}),
  };
  return Object.entries((svc.spec as V1Service['spec'])!.selector!).every(([k, v]) => labels[k] === v);
};

describe('buildDatabase', () => {
  it.each([
    ['no database section', []],
    ['a disabled database', [withDatabase({ enabled: false })]],
  ])('builds nothing for %s', (_name, mods) => {
    expect(build(...mods)).toEqual([]);
  });

  it('builds the config, then the main group: Services, primary and replica StatefulSets, replica budget', () => {
    expect(build(withDatabase()).map(key)).toEqual([
      'ConfigMap/shop-db-config',
      'Service/shop-db-primary-headless',
      'Service/shop-db-replica-headless',
      'Service/shop-db-primary',
      'Service/shop-db-replicas',
      'StatefulSet/shop-db-primary',
      'StatefulSet/shop-db-replica',
      'PodDisruptionBudget/shop-db-replica',
    ]);
  });

  it('adds one group of the same objects per shard, labelled with its index', () => {
    const os = build(withDatabase({ replicas: 1 }), withShards(2, 1));
    for (const i of [0, 1]) {
      for (const name of [`shop-db-shard-${i}-primary`, `shop-db-shard-${i}-replicas`])
        byKey(os, `Service/${name}`);
      for (const role of ['primary', 'replica']) {
        const sts = byKey(os, `StatefulSet/shop-db-shard-${i}-${role}`);
        expect(sts.metadata.labels).toMatchObject({ [SHARD_LABEL]: String(i), [ROLE_LABEL]: role });
      }
    }
    expect(byKey(os, 'StatefulSet/shop-db-primary').metadata.labels).toMatchObject({ [SHARD_LABEL]: 'main' });
    expect(statefulSets(os)).toHaveLength(6);
  });

  it('builds the Services databaseEndpoints names, on port 3306', () => {
    const ctx = buildContext(withShards(3));
    const os = buildDatabase(ctx);
    const endpoints = databaseEndpoints(ctx.app);
    const all = [
      endpoints.primary,
      endpoints.replicas,
      ...endpoints.shards.flatMap((s) => [s.primary, s.replicas]),
    ];
    expect(endpoints.shards.map((s) => s.index)).toEqual([0, 1, 2]);
    for (const e of all) {
      expect(e.port).toBe(3306);
      expect((byKey(os, `Service/${e.host}`).spec as V1Service['spec'])!.ports).toEqual([
        { name: 'mysql', port: 3306, targetPort: 'mysql', protocol: 'TCP' },
      ]);
    }
  });

  it.each([
    ['main', 'shop-db-primary', 'shop-db-replicas', ''],
    ['shard 1', 'shop-db-shard-1-primary', 'shop-db-shard-1-replicas', '-shard-1'],
  ])(
    '%s: the write Service selects the pod labelled primary, the read Service those labelled replica, whichever StatefulSet they are of',
    (_g, write, read, infix) => {
      const os = build(withShards(2, 2));
      const primary = stsSpec(os, `shop-db${infix}-primary`);
      const replica = stsSpec(os, `shop-db${infix}-replica`);
      const [writes, reads] = [byKey(os, `Service/${write}`), byKey(os, `Service/${read}`)];
      expect(selects(writes, primary, 'primary')).toBe(true);
      expect(selects(writes, replica, 'primary')).toBe(true); // a promoted replica
      expect(selects(writes, primary, 'replica')).toBe(false); // a primary that was failed over
      expect(selects(reads, replica, 'replica')).toBe(true);
      expect(selects(reads, primary, 'replica')).toBe(true);
      expect(selects(reads, replica, 'primary')).toBe(false);
      // Until the operator labels a pod, neither selects it: the templates carry no replication role.
      for (const spec of [primary, replica]) {
        expect(selects(writes, spec)).toBe(false);
        expect(selects(reads, spec)).toBe(false);
      }
      // Another group's pods are never selected.
      const other = stsSpec(os, infix ? 'shop-db-primary' : 'shop-db-shard-1-primary');
      expect(selects(writes, other, 'primary')).toBe(false);
      // Each headless Service gives the pods of its own StatefulSet their DNS names, whatever their role.
      expect(selects(byKey(os, `Service/shop-db${infix}-primary-headless`), primary)).toBe(true);
      expect(selects(byKey(os, `Service/shop-db${infix}-replica-headless`), replica)).toBe(true);
    },
  );

  it('sends reads to the primary when a group has no replicas', () => {
    const os = build(withDatabase({ replicas: 0 }), withShards(1, 0));
    expect(selects(byKey(os, 'Service/shop-db-replicas'), stsSpec(os, 'shop-db-primary'), 'primary')).toBe(
      true,
    );
    expect(
      selects(
        byKey(os, 'Service/shop-db-shard-0-replicas'),
        stsSpec(os, 'shop-db-shard-0-primary'),
        'primary',
      ),
    ).toBe(true);
    expect(stsSpec(os, 'shop-db-replica').replicas).toBe(0);
  });

  it('gives every server of every group its own server-id', () => {
    const ids = serverIds(build(withDatabase({ replicas: 10 }), withShards(64, 10)));
    expect(ids).toHaveLength(65 * 11);
    expect(new Set(ids).size).toBe(ids.length);
    expect(Math.min(...ids)).toBeGreaterThan(0);
  });

  it('points every pod at the write Service of its own group (a replica copies it; a replaced primary finds it)', () => {
    const os = build(withShards(2));
    expect(envOf(container(stsSpec(os, 'shop-db-replica')))).toMatchObject({
      ROLE: 'replica',
      PRIMARY_HOST: 'shop-db-primary',
      PRIMARY_PORT: '3306',
    });
    expect(envOf(container(stsSpec(os, 'shop-db-shard-1-replica'))).PRIMARY_HOST).toBe(
      'shop-db-shard-1-primary',
    );
    expect(envOf(container(stsSpec(os, 'shop-db-primary')))).toMatchObject({
      ROLE: 'primary',
      PRIMARY_HOST: 'shop-db-primary',
    });
  });

  it('starts the replicas of a group in parallel, each primary alone', () => {
    const os = build(withDatabase({ replicas: 3 }));
    expect(stsSpec(os, 'shop-db-replica')).toMatchObject({ replicas: 3, podManagementPolicy: 'Parallel' });
    expect(stsSpec(os, 'shop-db-primary').replicas).toBe(1);
    expect(stsSpec(os, 'shop-db-primary')).not.toHaveProperty('podManagementPolicy');
  });

  it.each([
    ['Retain', 'primary', { whenDeleted: 'Retain', whenScaled: 'Retain' }],
    ['Retain', 'replica', { whenDeleted: 'Retain', whenScaled: 'Delete' }],
    ['Delete', 'primary', { whenDeleted: 'Delete', whenScaled: 'Retain' }],
    ['Delete', 'replica', { whenDeleted: 'Delete', whenScaled: 'Delete' }],
  ])('with deletionPolicy %s, the %s volumes are kept or deleted as %j', (deletionPolicy, role, policy) => {
    const spec = stsSpec(build(withDatabase({ deletionPolicy })), `shop-db-${role}`);
    expect(spec.persistentVolumeClaimRetentionPolicy).toEqual(policy);
  });

  it.each([
    [{ size: '20Gi', storageClassName: 'ssd' }, { requests: { storage: '20Gi' } }, 'ssd'],
    [{ size: '20Gi', storageClassName: '' }, { requests: { storage: '20Gi' } }, undefined],
  ])('claims %j for every server', (storage, resources, storageClassName) => {
    for (const o of statefulSets(build(withDatabase({ storage }), withShards(1)))) {
      expect((o.spec as StatefulSetSpec).volumeClaimTemplates).toEqual([
        {
          metadata: { name: 'data' },
          spec: {
            accessModes: ['ReadWriteOnce'],
            resources,
            ...(storageClassName ? { storageClassName } : {}),
          },
        },
      ]);
    }
  });

  it.each([
    [0, false],
    [1, false],
    [2, true],
  ])('with %d replicas, gives them a disruption budget: %p', (replicas, budget) => {
    const os = build(withDatabase({ replicas }), withShards(1, replicas));
    const pdbs = os.filter((o) => o.kind === 'PodDisruptionBudget');
    expect(pdbs.map(key)).toEqual(
      budget ? ['PodDisruptionBudget/shop-db-replica', 'PodDisruptionBudget/shop-db-shard-0-replica'] : [],
    );
    for (const pdb of pdbs) {
      const spec = (pdb as V1PodDisruptionBudget).spec!;
      expect(spec).toMatchObject({ maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
      expect(spec.selector!.matchLabels).toMatchObject({ [ROLE_LABEL]: 'replica' });
    }
  });

  it('puts no password anywhere: the pods read them from the credentials Secret', () => {
    const os = build(withDatabase({ engine: 'mariadb' }), withShards(2));
    const text = JSON.stringify(os);
    for (const password of Object.values(TEST_CREDENTIALS)) expect(text).not.toContain(password);
    for (const o of statefulSets(os)) {
      const env = envOf(container(o.spec as StatefulSetSpec));
      const { cachePassword, ...mysql } = CREDENTIAL_KEYS;
      for (const secretKey of Object.values(mysql)) {
        expect(env[secretKey]).toEqual({ secretKeyRef: { name: 'shop-credentials', key: secretKey } });
      }
      // Each tier reads only its own passwords.
      expect(env[cachePassword]).toBeUndefined();
    }
  });

  it('runs every container under the restricted Pod Security Standard as uid 999', () => {
    for (const o of statefulSets(build(withShards(1)))) {
      const pod = (o.spec as StatefulSetSpec).template.spec!;
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 999,
        fsGroup: 999,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      for (const c of pod.containers) {
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        });
      }
    }
  });

  it('keeps root local: the images create no root@% (MYSQL_ROOT_HOST), and no pod mounts an API token', () => {
    for (const o of statefulSets(build(withShards(1)))) {
      const spec = o.spec as StatefulSetSpec;
      expect(envOf(container(spec)).MYSQL_ROOT_HOST).toBe('localhost');
      expect(spec.template.spec!.automountServiceAccountToken).toBe(false);
    }
  });

  it('mounts the data directory below the volume root, and the bootstrap as an executable initdb script', () => {
    const pod = stsSpec(build(withDatabase()), 'shop-db-replica').template.spec!;
    expect(pod.containers[0]!.volumeMounts).toEqual(
      expect.arrayContaining([
        { name: 'data', mountPath: '/var/lib/mysql', subPath: 'mysql' },
        { name: 'data', mountPath: '/volume' },
        { name: 'conf', mountPath: '/etc/mysql/conf.d' },
        { name: 'initdb', mountPath: '/docker-entrypoint-initdb.d', readOnly: true },
      ]),
    );
    expect(pod.volumes).toContainEqual({
      name: 'initdb',
      configMap: {
        name: 'shop-db-config',
        defaultMode: 0o555,
        items: [{ key: 'bootstrap.sh', path: '50-bootstrap.sh' }],
      },
    });
    expect(pod).not.toHaveProperty('initContainers');
  });

  it('probes with the scripts: startup and liveness ping, readiness checks the role', () => {
    const c = container(stsSpec(build(withDatabase()), 'shop-db-replica'));
    expect(c.startupProbe!.exec!.command).toEqual(['bash', '/config/liveness.sh']);
    expect(c.livenessProbe!.exec!.command).toEqual(['bash', '/config/liveness.sh']);
    expect(c.readinessProbe!.exec!.command).toEqual(['bash', '/config/readiness.sh']);
  });

  it('keeps StatefulSet names short and distinct for a long app name', () => {
    const names = statefulSets(build(withName('y'.repeat(63)), withShards(12))).map((o) => o.metadata.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name.length).toBeLessThanOrEqual(MAX_STATEFULSET_NAME);
  });

  it('rolls every server when the config changes: the pods carry the config hash', () => {
    const hash = (os: K8sObject[]) =>
      new Set(
        statefulSets(os).map(
          (o) => (o.spec as StatefulSetSpec).template.metadata!.annotations![CONFIG_HASH_ANNOTATION],
        ),
      );
    const mysql = hash(build(withShards(1)));
    const mariadb = hash(build(withDatabase({ engine: 'mariadb' }), withShards(1)));
    expect(mysql.size).toBe(1);
    expect(mariadb.size).toBe(1);
    expect([...mysql]).not.toEqual([...mariadb]);
  });
});

describe.each(ENGINES)('buildDatabase with engine %s', (engine) => {
  const os = build(withDatabase({ engine }));

  it("runs the engine default image, or the override, through start.sh with the image's server command", () => {
    expect(container(stsSpec(os, 'shop-db-primary'))).toMatchObject({
      name: engine,
      image: DEFAULT_IMAGES[engine],
      command: ['bash', '/config/start.sh'],
      args: [{ mysql: 'mysqld', mariadb: 'mariadbd' }[engine]],
    });
    const custom = build(withDatabase({ engine, image: `registry.example/${engine}:1` }));
    for (const o of statefulSets(custom)) {
      expect(container(o.spec as StatefulSetSpec).image).toBe(`registry.example/${engine}:1`);
    }
  });

  it('mounts the same set of files, the engine-specific ones from its own directory', () => {
    const data = configData(os);
    expect(Object.keys(data).sort()).toEqual([
      'bootstrap.sh',
      'change-source.sql',
      'databases.sql',
      'dump.sh',
      'lib.sh',
      'liveness.sh',
      'operator.sql',
      'prepare.sh',
      'readiness.sh',
      'server.cnf',
      'start.sh',
      'users.sql',
    ]);
    const specific = {
      mysql: [
        /^gtid-mode=ON$/m,
        /^enforce-gtid-consistency=ON$/m,
        /CHANGE REPLICATION SOURCE TO/,
        /SOURCE_AUTO_POSITION = 1/,
        /--set-gtid-purged=ON/,
      ],
      mariadb: [
        /^gtid-strict-mode=ON$/m,
        /^log-slave-updates=ON$/m,
        /CHANGE MASTER TO/,
        /MASTER_USE_GTID = slave_pos/,
        /--gtid/,
      ],
    }[engine];
    const text = Object.values(data).join('\n');
    for (const pattern of specific) expect(text).toMatch(pattern);
    expect(data['server.cnf']).toMatch(/^read-only=ON$/m);
  });

  it('tells the scripts the engine, the role, the database and the accounts', () => {
    expect(envOf(container(stsSpec(os, 'shop-db-replica')))).toMatchObject({
      ENGINE: engine,
      ROLE: 'replica',
      APP_DATABASE: 'app',
      APP_USER: 'app',
      REPLICATION_USER: 'replicator',
      MYSQL_INITDB_SKIP_TZINFO: '1',
    });
  });

  it('matches the snapshot (ConfigMap files listed by name; their text is tested on its own)', () => {
    const summary = build(
      withDatabase({ engine, resources: { requests: { cpu: '500m' } } }),
      withShards(1),
    ).map((o) => (o.kind === 'ConfigMap' ? { ...o, data: Object.keys(o.data as object).sort() } : o));
    expect(summary).toMatchSnapshot();
  });
});

describe('buildDatabase errors', () => {
  it.each<[string, (app: ScalableApp) => void]>([
    ['spec.database.replicas', (app) => void (app.spec.database!.replicas = 90)],
    [
      'spec.database.shards.replicasPerShard',
      (app) => void (app.spec.database!.shards.replicasPerShard = 120),
    ],
  ])('names %s when the replicas do not fit a group of server ids', (field, edit) => {
    const ctx = editedContext(edit, withDatabase(), withShards(1));
    expect(() => buildDatabase(ctx)).toThrow(
      new RegExp(`^${field.replace(/\./g, '\\.')}: \\d+ replicas do not fit the 89 server ids`),
    );
  });

  it('names metadata.namespace when the app has none', () => {
    const ctx = editedContext((app) => delete app.metadata.namespace, withDatabase());
    expect(() => buildDatabase(ctx)).toThrow(/^metadata\.namespace: is required/);
  });
});
