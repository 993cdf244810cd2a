// End to end on a real kubelet: every file in examples/*.yaml, applied as it is, reaches Ready (its pods pass
// their readiness probes under the operator's restricted security context: runAsNonRoot, read-only root).
// One namespace and one operator per example, one example at a time (the local node has two cores).
//
// What a profile cannot run as written is changed, and printed:
//   local  (hack/node.sh: no registry, images built on this machine) Redis and MariaDB images from Debian's
//          packages (SAPP_E2E_REDIS_IMAGE, SAPP_E2E_MARIADB_IMAGE); MySQL is not packaged in Debian, so a
//          mysql example runs on MariaDB; the Ingress class is the node's (traefik). agnhost
//          (examples/minimal.yaml) is built from the node's Kubernetes source and imported under its upstream
//          name, so that example runs unchanged. The web Service is fetched at its ClusterIP from this machine.
//   kind   nothing is changed (the images are pulled or `kind load`ed by e2e/kind/run.sh).
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { createNamespace, kubectl, REPO_ROOT } from '../test/harness/cluster.js';
import { applyObj, condition, getObj, type Obj } from '../test/harness/apps.js';
import { eventually } from '../test/harness/wait.js';
import { type RunningOperator, startOperatorFor } from './harness/operator.js';
import { Report, secs } from './harness/report.js';
import { profile } from './harness/shop.js';
import { dropNamespace, stopOperator } from './harness/teardown.js';

const EXAMPLES = join(REPO_ROOT, 'examples');
const FILES = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const READY_TIMEOUT_MS = Number(process.env.SAPP_E2E_EXAMPLE_READY_SECONDS ?? 900) * 1000;

const { note } = new Report('examples');

type Spec = Record<string, Record<string, unknown> | undefined>;

/** The ScalableApps of an example file, each moved to `namespace`. */
function appsOf(file: string, namespace: string): Obj[] {
  return YAML.parseAllDocuments(readFileSync(join(EXAMPLES, file), 'utf8'))
    .map((d) => d.toJS() as Obj)
    .filter((o) => o?.kind === 'ScalableApp')
    .map((o) => ({ ...o, metadata: { ...o.metadata, namespace } }));
}

/** The node's image references by name (hack/node-images.sh list). */
function nodeImages(): Record<string, string> {
  const out = execFileSync('bash', [join(REPO_ROOT, 'hack/node-images.sh'), 'list'], { encoding: 'utf8' });
  return Object.fromEntries(
    out
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length >= 2)
      .map(([name, ref]) => [name!, ref!]),
  );
}

/** The local profile's changes to an app (returned as notes); none on kind. */
function adapt(app: Obj, images: Record<string, string>): string[] {
  if (profile() !== 'local') return [];
  const notes: string[] = [];
  const spec = app.spec as Spec;
  const env = (name: string) => {
    const v = process.env[name];
    if (!v)
      throw new Error(`${name} is not set: hack/node.sh env exports it once the node's images are built`);
    return v;
  };
  const web = spec.web!;
  const known = new Set(Object.values(images).map((r) => r.replace(/^docker\.io\/library\//, '')));
  if (!known.has(String(web.image))) {
    throw new Error(
      `web.image ${String(web.image)} is not an image the local node has (${[...known].join(', ')})`,
    );
  }
  if (spec.cache && spec.cache.enabled !== false) {
    notes.push(`cache.image ${String(spec.cache.image ?? 'redis:7.4')} -> ${env('SAPP_E2E_REDIS_IMAGE')}`);
    spec.cache.image = env('SAPP_E2E_REDIS_IMAGE');
  }
  if (spec.database && spec.database.enabled !== false) {
    if ((spec.database.engine ?? 'mysql') === 'mysql') {
      notes.push('database.engine mysql -> mariadb (MySQL is not packaged in Debian)');
      spec.database.engine = 'mariadb';
    }
    notes.push(`database.image -> ${env('SAPP_E2E_MARIADB_IMAGE')}`);
    spec.database.image = env('SAPP_E2E_MARIADB_IMAGE');
  }
  const exposure = spec.exposure;
  if (exposure?.type === 'Ingress' && exposure.ingressClassName !== 'traefik') {
    notes.push(
      `exposure.ingressClassName ${String(exposure.ingressClassName)} -> traefik (the node's controller)`,
    );
    exposure.ingressClassName = 'traefik';
    exposure.host = `${app.metadata.namespace}.e2e.example.test`;
  }
  return notes;
}

describe.each(FILES)('examples/%s on a real kubelet', (file) => {
  let ns: string | undefined;
  let op: RunningOperator | undefined;

  afterAll(async () => {
    await stopOperator(op, (err) => note(`operator stop: ${String(err)}`));
    dropNamespace(ns);
  }, 180_000);

  it(
    'reaches Ready, every pod of it running and ready',
    async () => {
      ns = createNamespace(`ex-${file.replace(/\.yaml$/, '').replace(/[^a-z0-9]+/g, '-')}`.slice(0, 30));
      const images = profile() === 'local' ? nodeImages() : {};
      const apps = appsOf(file, ns);
      expect(apps.length).toBeGreaterThan(0);
      if (
        profile() === 'local' &&
        apps.some((a) => String((a.spec as Spec).web!.image).includes('agnhost'))
      ) {
        execFileSync('bash', [join(REPO_ROOT, 'hack/node-images.sh'), 'import', 'agnhost'], {
          stdio: 'inherit',
        });
      }
      for (const app of apps) for (const n of adapt(app, images)) note(`${file} ${app.metadata.name}: ${n}`);
      op = await startOperatorFor(ns);
      note(`${file}: namespace ${ns}, operator ${op.describe}`);
      const t0 = Date.now();
      for (const app of apps) applyObj(app);
      for (const app of apps) {
        const name = app.metadata.name;
        try {
          await eventually(
            `${file}: sapp/${name} Ready=True`,
            () => condition(getObj('sapp', ns!, name), 'Ready')?.status === 'True',
            {
              timeoutMs: READY_TIMEOUT_MS,
              intervalMs: 2000,
            },
          );
        } catch (err) {
          const ready = condition(getObj('sapp', ns!, name), 'Ready');
          note(`${file}: ${name} Ready=${ready?.status} ${ready?.reason}: ${ready?.message}`);
          note(kubectl(['-n', ns!, 'get', 'pods', '-o', 'wide'], { allowFail: true }).stdout);
          throw err;
        }
        note(`${file}: sapp/${name} Ready in ${secs(Date.now() - t0)}`);
      }
      const pods = JSON.parse(
        kubectl([
          '-n',
          ns,
          'get',
          'pods',
          '-l',
          'app.kubernetes.io/managed-by=scalable-app-operator',
          '-o',
          'json',
        ]).stdout,
      ) as {
        items: {
          metadata: { name: string };
          status: { phase: string; containerStatuses?: { ready: boolean }[] };
        }[];
      };
      expect(pods.items.length).toBeGreaterThan(0);
      const notReady = pods.items
        .filter((p) => p.status.phase !== 'Running' || !p.status.containerStatuses?.every((c) => c.ready))
        .map((p) => `${p.metadata.name} ${p.status.phase}`);
      expect(notReady).toEqual([]);
      note(`${file}: ${pods.items.length} pods Running and ready`);
    },
    READY_TIMEOUT_MS + 600_000,
  );

  // On kind the ClusterIP is inside Docker's network: only the local profile can fetch it from here.
  (profile() === 'local' ? it : it.skip)(
    'answers HTTP on the web Service, at its ClusterIP from this machine',
    async () => {
      if (!ns) throw new Error('the example was not applied');
      for (const app of appsOf(file, ns)) {
        const svc = JSON.parse(
          kubectl(['-n', ns, 'get', 'service', `${app.metadata.name}-web`, '-o', 'json']).stdout,
        ) as {
          spec: { clusterIP: string; ports: { port: number }[] };
        };
        const url = `http://${svc.spec.clusterIP}:${svc.spec.ports[0]!.port}/readyz`;
        const res = await eventually(
          `${url} answers 200`,
          async () => {
            const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
            return r.status === 200 ? r : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 1000 },
        );
        note(`${file}: GET ${url} -> ${res.status}`);
        expect(res.status).toBe(200);
      }
    },
    120_000,
  );
});
