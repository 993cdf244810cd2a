// A stand-in for a storage provisioner on the local cluster (it has none): every pending PVC in a namespace
// gets a hostPath PersistentVolume pre-bound to it, and the real PV controller completes the binding.
import { kubectl } from './cluster.js';

interface Pvc {
  metadata: { name: string; namespace: string; uid: string };
  spec: {
    accessModes?: string[];
    storageClassName?: string;
    resources?: { requests?: { storage?: string } };
  };
  status?: { phase?: string };
}

export class FakeProvisioner {
  private timer?: NodeJS.Timeout;
  readonly created = new Set<string>();

  constructor(private readonly namespace: string) {}

  start(intervalMs = 300): void {
    const tick = () => {
      try {
        this.provision();
      } catch {
        // the API server may be restarting; the next tick retries
      }
      this.timer = setTimeout(tick, intervalMs);
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** Deletes the volumes it created (they use Retain, so they would otherwise stay). */
  cleanup(): void {
    this.stop();
    if (this.created.size)
      kubectl(['delete', 'pv', '--wait=false', '--ignore-not-found', ...this.created], { allowFail: true });
  }

  private provision(): void {
    const pvcs = JSON.parse(kubectl(['-n', this.namespace, 'get', 'pvc', '-o', 'json']).stdout)
      .items as Pvc[];
    for (const pvc of pvcs) {
      if (pvc.status?.phase !== 'Pending') continue;
      const name = `pv-${pvc.metadata.uid}`;
      if (this.created.has(name)) continue;
      const pv = {
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name, labels: { 'scalable.dev/test-provisioner': this.namespace } },
        spec: {
          capacity: { storage: pvc.spec.resources?.requests?.storage ?? '1Gi' },
          accessModes: pvc.spec.accessModes ?? ['ReadWriteOnce'],
          persistentVolumeReclaimPolicy: 'Retain',
          storageClassName: pvc.spec.storageClassName ?? '',
          hostPath: { path: `/tmp/sapp-pv/${pvc.metadata.uid}` },
          claimRef: { namespace: pvc.metadata.namespace, name: pvc.metadata.name, uid: pvc.metadata.uid },
        },
      };
      kubectl(['apply', '-f', '-'], { input: JSON.stringify(pv), allowFail: true });
      this.created.add(name);
    }
  }
}
