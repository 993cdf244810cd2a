// The restricted Pod Security Standard for the app's containers: non-root, no privilege escalation, no
// capabilities, RuntimeDefault seccomp and a read-only root filesystem with a writable emptyDir at /tmp.
import type {
  V1PodSecurityContext,
  V1SecurityContext,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';

const TMP_VOLUME = 'tmp';

export const restrictedPodSecurityContext = (): V1PodSecurityContext => ({
  runAsNonRoot: true,
  seccompProfile: { type: 'RuntimeDefault' },
});

export const restrictedContainerSecurityContext = (): V1SecurityContext => ({
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  readOnlyRootFilesystem: true,
});

/** The only writable path of a container with a read-only root filesystem. */
export const tmpVolume = (): V1Volume => ({ name: TMP_VOLUME, emptyDir: {} });
export const tmpMount = (): V1VolumeMount => ({ name: TMP_VOLUME, mountPath: '/tmp' });
