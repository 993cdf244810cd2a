// The local real node's storage provisioner (started by hack/node.sh, a host process): every pending claim of
// the StorageClass `sapp-local` gets a hostPath PersistentVolume in a fresh directory under --root, pinned to the
// node; a released volume of that class (reclaimPolicy Delete) loses its directory and its PV. The same job as
// rancher's local-path-provisioner, without a helper image. Directories are mode 0777: hostPath volumes get no
// fsGroup, and the data tier runs as uid 999, the web tier as 1000.
//
//   node e2e/node/provisioner.ts --server https://127.0.0.1:36443 --ca ca.crt --cert c.crt --key c.key \
//     --root /var/lib/sapp-node/volumes --node sapp-node-0
//
// Plain Node 24 runs it (type stripping): no local imports, only erasable TypeScript.
import { mkdirSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, fetch } from 'undici';

const { values: args } = parseArgs({
  options: {
    server: { type: 'string' },
    ca: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    root: { type: 'string' },
    node: { type: 'string' },
    class: { type: 'string', default: 'sapp-local' },
    interval: { type: 'string', default: '1000' },
  },
});
for (const k of ['server', 'ca', 'cert', 'key', 'root', 'node'] as const)
  if (!args[k]) throw new Error(`--${k} is required`);

const PROVISIONER = 'scalable.dev/sapp-node-hostpath';
const dispatcher = new Agent({
  connect: {
    ca: readFileSync(args.ca!),
    cert: readFileSync(args.cert!),
    key: readFileSync(args.key!),
  },
});

interface Meta {
  name: string;
  namespace?: string;
  uid: string;
  annotations?: Record<string, string>;
}
interface Pvc {
  metadata: Meta;
  spec: {
    storageClassName?: string;
    accessModes?: string[];
    resources?: { requests?: { storage?: string } };
  };
  status?: { phase?: string };
}
interface Pv {
  metadata: Meta;
  spec: { storageClassName?: string; hostPath?: { path: string }; persistentVolumeReclaimPolicy?: string };
  status?: { phase?: string };
}

const log = (msg: string) => process.stdout.write(`${new Date().toISOString()} ${msg}\n`);

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(args.server + path, {
    method,
    dispatcher,
    headers: body ? { 'content-type': 'application/json' } : {},
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok && res.status !== 404 && res.status !== 409)
    throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}

/** Directory name: namespace, claim and uid, so that a person can tell what a directory holds. */
const dirFor = (pvc: Pvc) =>
  join(args.root!, `${pvc.metadata.namespace}_${pvc.metadata.name}_${pvc.metadata.uid.slice(0, 8)}`);

async function provision(pvc: Pvc): Promise<void> {
  const dir = dirFor(pvc);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o777);
  const pv = {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name: `pvc-${pvc.metadata.uid}`,
      annotations: { 'pv.kubernetes.io/provisioned-by': PROVISIONER },
    },
    spec: {
      capacity: { storage: pvc.spec.resources?.requests?.storage ?? '1Gi' },
      accessModes: pvc.spec.accessModes ?? ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Delete',
      storageClassName: args.class,
      hostPath: { path: dir, type: 'Directory' },
      claimRef: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        namespace: pvc.metadata.namespace,
        name: pvc.metadata.name,
        uid: pvc.metadata.uid,
      },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [args.node!] }] },
          ],
        },
      },
    },
  };
  await api('POST', '/api/v1/persistentvolumes', pv);
  log(`provisioned ${pv.metadata.name} for ${pvc.metadata.namespace}/${pvc.metadata.name} at ${dir}`);
}

async function reclaim(pv: Pv): Promise<void> {
  const path = pv.spec.hostPath?.path;
  if (path && path.startsWith(`${args.root}/`)) rmSync(path, { recursive: true, force: true });
  await api('DELETE', `/api/v1/persistentvolumes/${pv.metadata.name}`);
  log(`deleted ${pv.metadata.name} and ${path}`);
}

async function tick(): Promise<void> {
  const [pvcs, pvs] = await Promise.all([
    api<{ items: Pvc[] }>('GET', '/api/v1/persistentvolumeclaims'),
    api<{ items: Pv[] }>('GET', '/api/v1/persistentvolumes'),
  ]);
  const ours = pvs.items.filter(
    (pv) => pv.metadata.annotations?.['pv.kubernetes.io/provisioned-by'] === PROVISIONER,
  );
  const existing = new Set(ours.map((pv) => pv.metadata.name));
  for (const pvc of pvcs.items) {
    if (pvc.status?.phase !== 'Pending' || pvc.spec.storageClassName !== args.class) continue;
    if (existing.has(`pvc-${pvc.metadata.uid}`)) continue;
    await provision(pvc);
  }
  for (const pv of ours) {
    if (pv.status?.phase === 'Released' && pv.spec.persistentVolumeReclaimPolicy === 'Delete')
      await reclaim(pv);
  }
}

let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => (stopping = true));
mkdirSync(args.root!, { recursive: true });
log(`provisioner for StorageClass ${args.class} on ${args.node}, volumes under ${args.root}`);
while (!stopping) {
  try {
    await tick();
  } catch (err) {
    log(`error: ${String(err)}`);
  }
  await new Promise((r) => setTimeout(r, Number(args.interval)));
}
await dispatcher.close();
log('stopped');
