// Shared field shapes of the ScalableApp API: quantities, resources, env vars, storage.
import { z } from 'zod';

/** Kubernetes resource.Quantity, as the API server accepts it ("250m", "1Gi", 2). */
export const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

/** Marks a schema so the CRD generator writes it as `x-kubernetes-int-or-string` with the quantity pattern. */
export const QUANTITY_META = { 'x-kubernetes-int-or-string': true, pattern: QUANTITY_PATTERN } as const;

export const quantity = z
  .union([
    z.string().regex(new RegExp(QUANTITY_PATTERN), {
      message: 'must be a Kubernetes quantity such as 250m, 1Gi or 2',
    }),
    z.int().nonnegative(),
  ])
  .meta(QUANTITY_META);

export const dns1123Label = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, {
    message: 'must be a DNS-1123 label: lower case letters, digits and "-", starting and ending alphanumeric',
  });

export const dns1123Subdomain = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, {
    message: 'must be a DNS-1123 subdomain: lower case letters, digits, "-" and "."',
  });

export const image = z
  .string()
  .min(1)
  .max(512)
  .regex(/^\S+$/, { message: 'must be a container image reference without spaces' });

const resourceList = z
  .record(z.string(), quantity)
  .describe('Resource amounts by name (cpu, memory, ephemeral-storage, ...).');

export const resources = z
  .strictObject({
    requests: resourceList
      .optional()
      .describe('Guaranteed amounts the scheduler reserves, e.g. {cpu: 200m, memory: 256Mi}.'),
    limits: resourceList.optional().describe('Upper bounds, e.g. {memory: 512Mi}.'),
  })
  .describe('Compute resources of each container (vertical scaling), in the Kubernetes shape.');

export const envVar = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .regex(/^[-._a-zA-Z][-._a-zA-Z0-9]*$/, {
        message: 'must be a C identifier-like environment variable name',
      })
      .describe('Name of the environment variable.'),
    value: z.string().optional().describe('Literal value.'),
    valueFrom: z
      .record(z.string(), z.unknown())
      .optional()
      .meta({ 'x-kubernetes-preserve-unknown-fields': true })
      .describe(
        'Source of the value (secretKeyRef, configMapKeyRef, fieldRef, resourceFieldRef), as in a Pod.',
      ),
  })
  .describe('An environment variable, in the Kubernetes EnvVar shape.');

export const env = z
  .array(envVar)
  .max(200)
  .default([])
  .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] })
  .describe('Extra environment variables for the containers, added after the binding Secret.');

export const storage = (defaultSize: string) =>
  z
    .strictObject({
      size: quantity.default(defaultSize).describe(`Requested size of each volume (default ${defaultSize}).`),
      storageClassName: z
        .string()
        .optional()
        .describe('StorageClass of the volumes; empty or absent uses the cluster default.'),
    })
    .describe('Persistent volume for each pod, created from a volumeClaimTemplate.');

const scalingRules = z
  .strictObject({
    stabilizationWindowSeconds: z
      .int()
      .min(0)
      .max(3600)
      .optional()
      .describe('Seconds of past recommendations considered before scaling.'),
    selectPolicy: z
      .enum(['Max', 'Min', 'Disabled'])
      .optional()
      .describe('Which policy wins when several apply; Disabled turns this direction off.'),
    policies: z
      .array(
        z
          .strictObject({
            type: z
              .enum(['Pods', 'Percent'])
              .describe('Pods: an absolute count; Percent: of current replicas.'),
            value: z.int().min(1).describe('Amount of change allowed per period.'),
            periodSeconds: z.int().min(1).max(1800).describe('Length of the period in seconds.'),
          })
          .describe('One scaling policy.'),
      )
      .optional()
      .describe('Scaling policies; the selectPolicy chooses among them.'),
  })
  .describe('Scaling rules for one direction.');

export const autoscalingBehavior = z
  .strictObject({
    scaleUp: scalingRules.optional().describe('How fast to add replicas.'),
    scaleDown: scalingRules.optional().describe('How fast to remove replicas.'),
  })
  .describe('Scaling behavior passed through to the HorizontalPodAutoscaler (autoscaling/v2 shape).');
