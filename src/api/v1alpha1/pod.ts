// Pod escape hatches: the pod settings the operator leaves to the user (user and group ids, pull secrets,
// scheduling, extra labels and annotations, the service account), in the same shape for every tier
// (`spec.<tier>.pod`). What keeps the pods `restricted` (runAsNonRoot, no privilege escalation, no capabilities,
// RuntimeDefault seccomp) is not among them, and the operator's own labels and annotations cannot be set here.
import { z } from 'zod';
import { dns1123Subdomain } from './common.js';
import { type Rule, withRules } from './rule.js';

/** The `app.kubernetes.io/*` labels the operator sets on every pod: selectors, and what its tools read. */
export const OPERATOR_LABELS = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/component',
  'app.kubernetes.io/part-of',
  'app.kubernetes.io/managed-by',
] as const;

/** The operator's own prefix: roles, shards and checksums (labels and annotations). */
export const OPERATOR_PREFIX = 'scalable.dev/';

const MAX_ID = 2147483647;
const MAX_ENTRIES = 64;

/** Label and annotation keys: an optional DNS subdomain prefix and a name of at most 63 characters. */
const QUALIFIED_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const qualifiedName = z.string().max(316).regex(QUALIFIED_NAME, {
  message: 'must be a qualified name: an optional DNS subdomain and "/", then at most 63 of [A-Za-z0-9-_.]',
});

/** A string map of at most MAX_ENTRIES entries (maxProperties also bounds the cost of the CRD's CEL rules). */
const stringMap = <V extends z.ZodType<string>>(value: V) =>
  z
    .record(qualifiedName, value)
    .refine((m) => Object.keys(m).length <= MAX_ENTRIES, {
      message: `must have at most ${MAX_ENTRIES} entries`,
    })
    .meta({ maxProperties: MAX_ENTRIES });

const labelValue = z.string().max(63).regex(LABEL_VALUE, {
  message: 'must be a label value: at most 63 of [A-Za-z0-9-_.], starting and ending alphanumeric',
});

const id = (what: string) => z.int().min(0).max(MAX_ID).optional().describe(what);

const securityContext = z
  .strictObject({
    runAsUser: id(
      "User id the containers run as; absent uses the image's USER (the data tier: 999, the official images' user). Never 0: the pods always run with runAsNonRoot.",
    ),
    runAsGroup: id(
      "Primary group id of the containers' processes; absent uses the image's (the data tier: 999).",
    ),
    fsGroup: id(
      'Group that owns the mounted volumes and is added to the processes (the data tier: 999, changed only when the volume root differs).',
    ),
  })
  .describe(
    "User and group ids of the pod, for images whose USER is a name or root. The rest of the security context stays the operator's (restricted Pod Security Standard).",
  );

const toleration = z
  .strictObject({
    key: z
      .string()
      .max(316)
      .optional()
      .describe('Taint key the toleration matches; empty with operator Exists matches every taint.'),
    operator: z
      .enum(['Exists', 'Equal'])
      .optional()
      .describe('Equal (the default): the taint value must equal value; Exists: any value.'),
    value: z.string().max(63).optional().describe('Taint value to match with operator Equal.'),
    effect: z
      .enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'])
      .optional()
      .describe('Taint effect to match; empty matches every effect.'),
    tolerationSeconds: z
      .int()
      .optional()
      .describe('For NoExecute: how long the pod stays bound after the taint appears; absent is forever.'),
  })
  .describe('A toleration, in the Kubernetes Toleration shape.');

const affinityTerm = (what: string) =>
  z
    .record(z.string(), z.unknown())
    .optional()
    .meta({ 'x-kubernetes-preserve-unknown-fields': true })
    .describe(`${what}, in the Kubernetes shape (checked by the API server when the pods are created).`);

const podObject = z.strictObject({
  securityContext: securityContext.optional(),
  imagePullSecrets: z
    .array(
      z
        .strictObject({
          name: dns1123Subdomain.describe('Name of a Secret of type kubernetes.io/dockerconfigjson.'),
        })
        .describe('A pull secret, by name, in the namespace of the app.'),
    )
    .max(32)
    .optional()
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] })
    .describe('Secrets with the registry credentials for the image.'),
  nodeSelector: stringMap(labelValue)
    .optional()
    .describe('Node labels the pods require, e.g. {kubernetes.io/arch: amd64}.'),
  tolerations: z.array(toleration).max(32).optional().describe('Taints the pods tolerate.'),
  affinity: z
    .strictObject({
      nodeAffinity: affinityTerm('Node affinity'),
      podAffinity: affinityTerm('Pod affinity'),
      podAntiAffinity: affinityTerm(
        "Pod anti-affinity; for the database it replaces the operator's (spread a group's servers over nodes)",
      ),
    })
    .optional()
    .describe('Scheduling constraints, in the Kubernetes Affinity shape.'),
  labels: stringMap(labelValue)
    .optional()
    .describe(
      `Extra labels of the pods. The operator's own (${OPERATOR_LABELS.join(', ')} and every ${OPERATOR_PREFIX}* key) are refused.`,
    ),
  annotations: stringMap(z.string())
    .optional()
    .describe(`Extra annotations of the pods. ${OPERATOR_PREFIX}* keys are the operator's and are refused.`),
  serviceAccountName: dns1123Subdomain
    .optional()
    .describe('ServiceAccount the pods run as (it must exist); absent uses the namespace\'s "default".'),
  automountServiceAccountToken: z
    .boolean()
    .optional()
    .describe(
      "Mount the service account's API token into the pods; absent means no (the operator's pods do not talk to the Kubernetes API).",
    ),
});

export type PodOptions = z.output<typeof podObject>;

const reservedLabel = (key: string) =>
  (OPERATOR_LABELS as readonly string[]).includes(key) || key.startsWith(OPERATOR_PREFIX);

const CEL_OPERATOR_LABELS = `[${OPERATOR_LABELS.map((l) => `'${l}'`).join(', ')}]`;

/** The rules of the pod options of one tier, `at` being e.g. 'web.pod'. */
export const podRules = (at: string): Rule<PodOptions>[] => [
  {
    id: `${at}.run-as-non-root`,
    at,
    cel: '!has(self.securityContext) || !has(self.securityContext.runAsUser) || self.securityContext.runAsUser != 0',
    message: 'securityContext.runAsUser must not be 0: the pods run as non-root (runAsNonRoot)',
    fieldPath: '.securityContext.runAsUser',
    check: (p) => p.securityContext?.runAsUser !== 0,
  },
  {
    id: `${at}.no-operator-labels`,
    at,
    cel: `!has(self.labels) || self.labels.all(k, !(k in ${CEL_OPERATOR_LABELS}) && !k.startsWith('${OPERATOR_PREFIX}'))`,
    message: `labels must not set the operator's labels (${OPERATOR_LABELS.join(', ')}, ${OPERATOR_PREFIX}*)`,
    fieldPath: '.labels',
    check: (p) => !Object.keys(p.labels ?? {}).some(reservedLabel),
  },
  {
    id: `${at}.no-operator-annotations`,
    at,
    cel: `!has(self.annotations) || self.annotations.all(k, !k.startsWith('${OPERATOR_PREFIX}'))`,
    message: `annotations must not set the operator's annotations (${OPERATOR_PREFIX}*)`,
    fieldPath: '.annotations',
    check: (p) => !Object.keys(p.annotations ?? {}).some((k) => k.startsWith(OPERATOR_PREFIX)),
  },
];

/** The `pod` field of a tier whose spec sits at `tier` (e.g. 'web', 'database'). */
export const podOptions = (tier: string) =>
  withRules(podObject, podRules(`${tier}.pod`)).describe(
    `Settings of the ${tier} pods left to the user: ids, pull secrets, scheduling, extra labels and annotations, service account. Absent fields keep the operator's defaults.`,
  );
