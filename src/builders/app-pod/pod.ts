// The pod template shared by the app's Deployments (web and workers): restricted security, a writable /tmp,
// spread across nodes, and the binding checksum that rolls the pods when the binding changes.
import type { V1Container, V1Deployment, V1PodTemplateSpec } from '@kubernetes/client-node';
import { BINDING_CHECKSUM_ANNOTATION, bindingChecksum, buildBinding } from '../binding.js';
import { type Component, labels, selectorLabels } from '../meta.js';
import {
  type PodOptionsAt,
  podAnnotations,
  podLabels,
  podSecurityContextWith,
  podSpecOptions,
} from '../pod-options.js';
import type { BuildContext, K8sObject } from '../types.js';
import { spreadAcrossNodes } from './scheduling.js';
import {
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
  tmpMount,
  tmpVolume,
} from './security.js';

/** A Deployment of the app's pods (web or workers). */
export type Deployment = V1Deployment & K8sObject;

/** The pod-template annotations: the binding's checksum when the pods load the binding, else none. */
export function bindingAnnotations(ctx: BuildContext): Record<string, string> | undefined {
  const binding = buildBinding(ctx);
  return binding ? { [BINDING_CHECKSUM_ANNOTATION]: bindingChecksum(binding.data) } : undefined;
}

/**
 * A pod template of `component` running one app container, with the restricted security settings added and
 * the user's pod options (`pod.field`) applied.
 */
export function appPodTemplate(
  ctx: BuildContext,
  component: Component,
  container: Omit<V1Container, 'securityContext' | 'volumeMounts'>,
  pod: PodOptionsAt = { options: undefined, field: `spec.${component}.pod` },
): V1PodTemplateSpec {
  const annotations = podAnnotations(bindingAnnotations(ctx), pod);
  return {
    metadata: { labels: podLabels(labels(ctx.app, component), pod), ...(annotations ? { annotations } : {}) },
    spec: {
      // The app does not talk to the Kubernetes API unless the user mounts a token (pod options); service links
      // would add variables per Service of the namespace to its environment.
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      ...podSpecOptions(pod),
      securityContext: podSecurityContextWith(restrictedPodSecurityContext(), pod),
      topologySpreadConstraints: spreadAcrossNodes(selectorLabels(ctx.app, component)),
      containers: [
        { ...container, securityContext: restrictedContainerSecurityContext(), volumeMounts: [tmpMount()] },
      ],
      volumes: [tmpVolume()],
    },
  };
}
