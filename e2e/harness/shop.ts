// The shop as the e2e suite deploys it, per profile (SAPP_E2E_PROFILE):
//   local  the local real node (hack/node.sh): examples/shop-mariadb.yaml (MariaDB: MySQL is not packaged in
//          Debian), with the images node.sh built from Debian packages (SAPP_E2E_MARIADB_IMAGE, _REDIS_IMAGE,
//          _SHOP_IMAGE); ClientIP affinity on the web Service, reached at its ClusterIP through kube-proxy.
//   kind   examples/shop.yaml (MySQL 8.4, Redis 7.4 from Docker Hub), cookie affinity through ingress-nginx,
//          reached at SAPP_E2E_INGRESS_URL with the Ingress host.
// Test-only changes to the examples, both profiles: small volumes, a 30 s scale-down window (the example's
// default is 5 min), a smaller maxReplicas and a 5 s worker interval (default 30 s).
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { kubectl } from '../../test/harness/cluster.js';
import { condition, example, getObj, type Obj } from '../../test/harness/apps.js';
import { eventually } from '../../test/harness/wait.js';
import type { Target } from './load.js';

const execFileAsync = promisify(execFile);

export type Profile = 'local' | 'kind';

export function profile(): Profile {
  const p = process.env.SAPP_E2E_PROFILE ?? 'local';
  if (p !== 'local' && p !== 'kind') throw new Error(`SAPP_E2E_PROFILE=${p}: use local or kind`);
  return p;
}

export const APP = 'shop';
export const MIN_REPLICAS = 2;

export interface ShopManifest {
  obj: Obj;
  notes: string[];
}

export function shopManifest(namespace: string): ShopManifest {
  const notes: string[] = [];
  const p = profile();
  const obj = example(p === 'local' ? 'shop-mariadb.yaml' : 'shop.yaml', namespace, APP);
  const spec = structuredClone(obj.spec!) as Record<string, Record<string, unknown>>;
  const web = spec.web!;
  const database = spec.database!;
  const cache = (spec.cache ??= {});
  web.autoscaling = {
    ...(web.autoscaling as object),
    enabled: true,
    minReplicas: MIN_REPLICAS,
    maxReplicas: Number(process.env.SAPP_E2E_MAX_REPLICAS ?? (p === 'local' ? 4 : 6)),
    behavior: {
      scaleDown: {
        stabilizationWindowSeconds: 30,
        policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
      },
    },
  };
  notes.push('autoscaling: scale-down window 30 s (example: 5 min), so the test sees the scale-in');
  const workers = spec.workers;
  if (!workers || workers.enabled === false)
    throw new Error('the e2e shop must run its worker (spec.workers)');
  workers.env = [{ name: 'WORKER_INTERVAL_SECONDS', value: '5' }];
  notes.push('workers: a warm pass every 5 s (default 30 s), so the test sees one soon after a write');
  database.storage = { ...(database.storage as object), size: '1Gi' };
  cache.storage = { ...(cache.storage as object), size: '1Gi' };
  if (p === 'local') {
    const img = (name: string, fallback?: string) => {
      const v = process.env[name] ?? fallback;
      if (!v)
        throw new Error(`${name} is not set: hack/node.sh env exports it once the node's images are built`);
      return v;
    };
    web.image = img('SAPP_E2E_SHOP_IMAGE', 'scalable-shop:0.1.0');
    // Half the example's CPU request: the HPA sees the same utilisation at half the load, so the bounded load
    // (and the two shared cores) can stay small.
    web.resources = {
      ...(web.resources as object),
      requests: { ...((web.resources as { requests?: object }).requests ?? {}), cpu: '100m' },
    };
    notes.push('web: requests.cpu 100m (example: 200m), so a smaller load crosses the HPA target');
    database.image = img('SAPP_E2E_MARIADB_IMAGE');
    cache.image = img('SAPP_E2E_REDIS_IMAGE');
    notes.push(
      `engine mariadb (${String(database.image)}), Redis ${String(cache.image)}: images built from Debian packages`,
    );
  } else {
    spec.exposure = { ...spec.exposure, host: `${namespace}.e2e.example.test` };
  }
  return { obj: { ...obj, spec }, notes };
}

/** Waits until the shop in `namespace` is Ready=True (read every 2 s); throws after `timeoutMs`. */
export async function waitForShopReady(namespace: string, timeoutMs: number): Promise<void> {
  await eventually(
    'ScalableApp Ready=True',
    () => condition(getObj('sapp', namespace, APP), 'Ready')?.status === 'True',
    { timeoutMs, intervalMs: 2000 },
  );
}

/** Where the load goes. SAPP_E2E_TARGET_URL overrides. */
export function resolveTarget(namespace: string, manifest: Obj): Target {
  if (process.env.SAPP_E2E_TARGET_URL) return { origin: process.env.SAPP_E2E_TARGET_URL };
  if (profile() === 'kind') {
    const exposure = manifest.spec!.exposure as { host: string };
    return { origin: process.env.SAPP_E2E_INGRESS_URL ?? 'http://127.0.0.1', host: exposure.host };
  }
  const svc = JSON.parse(kubectl(['-n', namespace, 'get', 'service', `${APP}-web`, '-o', 'json']).stdout) as {
    spec: { clusterIP: string; ports: { port: number }[] };
  };
  return { origin: `http://${svc.spec.clusterIP}:${svc.spec.ports[0]!.port}` };
}

/** Traefik on this machine: the local node's one entry point for Ingresses and Gateways (SAPP_E2E_INGRESS_URL). */
export function traefikOrigin(): string {
  const origin = process.env.SAPP_E2E_INGRESS_URL;
  if (!origin) throw new Error('SAPP_E2E_INGRESS_URL is not set: hack/node.sh env exports it (Traefik)');
  return origin;
}

/** Source addresses for the shoppers (local profile: distinct clients for ClientIP affinity). */
export function sourceAddresses(): string[] {
  if (profile() !== 'local') return [];
  return (process.env.SAPP_E2E_SOURCE_IPS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** kubectl without blocking the event loop (the load generator shares it). */
export async function kubectlAsync(args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('kubectl', args, { env: process.env, maxBuffer: 32 << 20 });
  return stdout;
}

export interface ScaleSample {
  t: number;
  /** HPA status.desiredReplicas */
  desired: number;
  /** HPA status.currentReplicas */
  current: number;
  /** Deployment status.readyReplicas */
  ready: number;
  /** CPU utilisation the HPA sees (percent of requests), when it has it. */
  cpu: number | undefined;
}

/** Polls the web tier's HPA and Deployment every `intervalMs` (async: the load keeps running). */
export class ScaleWatcher {
  readonly samples: ScaleSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly namespace: string,
    private readonly intervalMs = 3000,
  ) {}

  start(): void {
    this.running = true;
    const tick = async () => {
      try {
        await this.sample();
      } catch {
        // a transient API error; the next tick retries
      }
      if (this.running) this.timer = setTimeout(tick, this.intervalMs);
    };
    void tick();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  async sample(): Promise<ScaleSample> {
    const out = await kubectlAsync([
      '-n',
      this.namespace,
      'get',
      `horizontalpodautoscaler/${APP}-web`,
      `deployment/${APP}-web`,
      '-o',
      'json',
    ]);
    const items = (JSON.parse(out) as { items: Obj[] }).items;
    const hpa = items.find((o) => o.kind === 'HorizontalPodAutoscaler')?.status as
      | {
          desiredReplicas?: number;
          currentReplicas?: number;
          currentMetrics?: { resource?: { name: string; current?: { averageUtilization?: number } } }[];
        }
      | undefined;
    const deploy = items.find((o) => o.kind === 'Deployment')?.status as
      { readyReplicas?: number } | undefined;
    const s: ScaleSample = {
      t: Date.now(),
      desired: hpa?.desiredReplicas ?? 0,
      current: hpa?.currentReplicas ?? 0,
      ready: deploy?.readyReplicas ?? 0,
      cpu: hpa?.currentMetrics?.find((m) => m.resource?.name === 'cpu')?.resource?.current
        ?.averageUtilization,
    };
    this.samples.push(s);
    return s;
  }

  /** First sample at or after `since` where the HPA wanted more than `min` replicas. */
  firstScaleOut(since: number, min = MIN_REPLICAS): ScaleSample | undefined {
    return this.samples.find((s) => s.t >= since && s.desired > min);
  }

  /** First sample at or after `since` with more than `min` ready web pods. */
  firstReadyScaleOut(since: number, min = MIN_REPLICAS): ScaleSample | undefined {
    return this.samples.find((s) => s.t >= since && s.ready > min);
  }

  maxReady(since = 0): number {
    return Math.max(0, ...this.samples.filter((s) => s.t >= since).map((s) => s.ready));
  }

  last(): ScaleSample | undefined {
    return this.samples.at(-1);
  }
}

export interface WebEndpoint {
  addresses: string[];
  /** The pod behind the endpoint. */
  targetRef?: { name?: string };
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
}

/** The endpoints of the web Service's EndpointSlices, without blocking the event loop. */
export async function webEndpoints(namespace: string): Promise<WebEndpoint[]> {
  const out = await kubectlAsync([
    '-n',
    namespace,
    'get',
    'endpointslices',
    '-l',
    `kubernetes.io/service-name=${APP}-web`,
    '-o',
    'json',
  ]);
  const slices = JSON.parse(out) as { items: { endpoints?: WebEndpoint[] }[] };
  return slices.items.flatMap((sl) => sl.endpoints ?? []);
}

/** Ready endpoints of the web Service (their addresses), without blocking the event loop. */
export async function readyWebEndpoints(namespace: string): Promise<string[]> {
  return (await webEndpoints(namespace))
    .filter((e) => e.conditions?.ready !== false)
    .flatMap((e) => e.addresses);
}

export interface PodInfo {
  name: string;
  phase: string;
  ready: boolean;
  created: number;
}

export function pods(namespace: string, selector: string): PodInfo[] {
  const out = kubectl(['-n', namespace, 'get', 'pods', '-l', selector, '-o', 'json']).stdout;
  return (
    JSON.parse(out) as {
      items: {
        metadata: { name: string; creationTimestamp: string; deletionTimestamp?: string };
        status: { phase: string; conditions?: { type: string; status: string }[] };
      }[];
    }
  ).items.map((p) => ({
    name: p.metadata.name,
    phase: p.status.phase,
    ready:
      !p.metadata.deletionTimestamp &&
      !!p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    created: Date.parse(p.metadata.creationTimestamp),
  }));
}

export const webSelector = `app.kubernetes.io/instance=${APP},app.kubernetes.io/component=web`;

interface ContainerStatus {
  name: string;
  restartCount: number;
  containerID?: string;
}

interface PodStatus {
  metadata: { deletionTimestamp?: string };
  status: { containerStatuses?: ContainerStatus[]; conditions?: { type: string; status: string }[] };
}

function containerStatus(namespace: string, pod: string, container: string): ContainerStatus | undefined {
  const out = kubectl(['-n', namespace, 'get', 'pod', pod, '-o', 'json']).stdout;
  return (JSON.parse(out) as PodStatus).status.containerStatuses?.find((c) => c.name === container);
}

/** A container's restarts and whether its pod is Ready (without blocking the event loop: a load may be running). */
export async function containerState(
  namespace: string,
  pod: string,
  container: string,
): Promise<{ restarts: number; ready: boolean }> {
  const p = JSON.parse(await kubectlAsync(['-n', namespace, 'get', 'pod', pod, '-o', 'json'])) as PodStatus;
  return {
    restarts: p.status.containerStatuses?.find((c) => c.name === container)?.restartCount ?? 0,
    ready:
      !p.metadata.deletionTimestamp &&
      !!p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  };
}

/**
 * kill -9 (or another signal) of the process named `command` in a container, from this machine: the local real node's containers are
 * processes here (found by the container id in their cgroup), and inside the container the server is PID 1, which
 * ignores a SIGKILL sent from its own PID namespace. Returns the host PID.
 */
export function killInContainer(
  namespace: string,
  pod: string,
  container: string,
  command: string,
  signal: NodeJS.Signals = 'SIGKILL',
): number {
  const id = containerStatus(namespace, pod, container)?.containerID?.replace(/^[a-z]+:\/\//, '');
  if (!id) throw new Error(`${pod} has no running container ${container}`);
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== command) continue;
      if (!readFileSync(`/proc/${entry}/cgroup`, 'utf8').includes(id)) continue;
    } catch {
      continue; // the process ended meanwhile
    }
    process.kill(Number(entry), signal);
    return Number(entry);
  }
  throw new Error(`no ${command} process of ${pod}/${container} (container ${id}) on this machine`);
}

/** The ready database pod serving a group (shard "main" or an index) as `role` now (the operator's label). */
export function databasePod(namespace: string, shard: string | number, role: 'primary' | 'replica'): string {
  const list = pods(
    namespace,
    `app.kubernetes.io/instance=${APP},app.kubernetes.io/component=database,scalable.dev/shard=${shard},scalable.dev/replication-role=${role}`,
  )
    .filter((p) => p.ready)
    .sort((a, b) => a.name.localeCompare(b.name));
  if (!list.length) throw new Error(`no ready ${role} pod of database group ${shard}`);
  return list[0]!.name;
}

/**
 * Runs SQL as root inside a database pod, with the pod's own scripts (lib.sh: client program and socket of
 * the image, the root password from the container's environment). Returns tab-separated rows.
 */
export async function sql(namespace: string, pod: string, query: string): Promise<string[][]> {
  const out = await kubectlAsync([
    '-n',
    namespace,
    'exec',
    pod,
    '--',
    'bash',
    '-c',
    'source /config/lib.sh && local_sql -N -B -e "$1"',
    'sql',
    query,
  ]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t'));
}
