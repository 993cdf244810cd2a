import { describe, expect, it } from '@jest/globals';
import { buildContext } from '../../../test/fixtures/build-context.js';
import { withCache } from '../../../test/fixtures/scalable-app.js';
import { BINDING_CHECKSUM_ANNOTATION } from '../binding.js';
import { appPodTemplate, bindingAnnotations } from './pod.js';

describe('appPodTemplate', () => {
  const template = appPodTemplate(buildContext(), 'workers', { name: 'c', image: 'i' });
  const spec = template.spec!;
  const c = spec.containers[0]!;

  it('meets the restricted Pod Security Standard', () => {
    expect(spec.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      readOnlyRootFilesystem: true,
    });
  });

  it('gives the read-only container a writable emptyDir at /tmp', () => {
    expect(spec.volumes).toEqual([{ name: 'tmp', emptyDir: {} }]);
    expect(c.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
  });

  it('spreads the pods of the component across nodes without blocking scheduling', () => {
    expect(spec.topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: {
          matchLabels: {
            'app.kubernetes.io/name': 'shop',
            'app.kubernetes.io/instance': 'shop',
            'app.kubernetes.io/component': 'workers',
          },
        },
        matchLabelKeys: ['pod-template-hash'],
      },
    ]);
  });

  it('mounts no service account token and injects no service links', () => {
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.enableServiceLinks).toBe(false);
  });

  it('keeps the container it was given, under the component labels', () => {
    expect(c).toMatchObject({ name: 'c', image: 'i' });
    expect(template.metadata!.labels!['app.kubernetes.io/component']).toBe('workers');
  });
});

describe('bindingAnnotations', () => {
  it.each([
    ['no binding is loaded', buildContext(), undefined],
    ['the binding is loaded', buildContext(withCache()), expect.stringMatching(/^[0-9a-f]{64}$/)],
  ])('when %s', (_name, ctx, checksum) => {
    expect(bindingAnnotations(ctx)?.[BINDING_CHECKSUM_ANNOTATION]).toEqual(checksum);
  });
});
