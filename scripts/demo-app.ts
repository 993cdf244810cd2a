// The shop `make demo` runs on the local real node: examples/shop-mariadb.yaml (MySQL is not packaged in Debian,
// so the node's database image is MariaDB) with the images hack/node-images.sh built on this machine, exposed
// through the node's Traefik with a sticky cookie at http://shop.localhost:<port>/ (every browser and curl
// resolve *.localhost to 127.0.0.1, so no /etc/hosts edit is needed).
//
//   tsx scripts/demo-app.ts [NAMESPACE]   prints the ScalableApp as JSON (kubectl apply -f -)
//
// Images come from the environment `hack/node.sh env` exports (SAPP_E2E_SHOP_IMAGE, _MARIADB_IMAGE,
// _REDIS_IMAGE); a missing one is an error naming it.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

export const DEMO_HOST = 'shop.localhost';
export const DEMO_COOKIE = 'SAPP_AFFINITY';

const EXAMPLE = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples', 'shop-mariadb.yaml');

type Spec = Record<string, Record<string, unknown>>;
interface App {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: Spec;
}

function image(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v) throw new Error(`${name} is not set: run eval "$(bash hack/node.sh env)" once the node is up`);
  return v;
}

/** The demo's app: the example as it is, but for the images, the front door and sizes fit for two cores. */
export function demoApp(namespace: string, env: NodeJS.ProcessEnv = process.env): App {
  const app = YAML.parse(readFileSync(EXAMPLE, 'utf8')) as App;
  app.metadata.namespace = namespace;
  const spec = app.spec;
  const web = spec.web!;
  web.image = image(env, 'SAPP_E2E_SHOP_IMAGE');
  // Half the example's CPU request, so `make demo-load` (a bounded load on a small machine) crosses the HPA's
  // target (50% here); at most 4 pods; scale in after 60 s instead of 5 min, so the demo shows it.
  web.resources = { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } };
  web.autoscaling = {
    ...(web.autoscaling as object),
    minReplicas: 2,
    maxReplicas: 4,
    targetCPUUtilizationPercentage: 50,
    behavior: { scaleDown: { stabilizationWindowSeconds: 60 } },
  };
  spec.exposure = {
    type: 'Ingress',
    ingressClassName: 'traefik',
    host: DEMO_HOST,
    sessionAffinity: 'Cookie',
    cookieName: DEMO_COOKIE,
  };
  spec.database = {
    ...spec.database,
    image: image(env, 'SAPP_E2E_MARIADB_IMAGE'),
    storage: { size: '1Gi' },
    // A demo's data goes with it (`make demo-stop`); the example keeps its volumes (Retain).
    deletionPolicy: 'Delete',
  };
  spec.cache = { ...spec.cache, image: image(env, 'SAPP_E2E_REDIS_IMAGE'), storage: { size: '1Gi' } };
  return app;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${JSON.stringify(demoApp(process.argv[2] ?? 'shop'), null, 2)}\n`);
}
