// Generates the ScalableApp CustomResourceDefinition from the zod schema: one source of truth.
import { z } from 'zod';
import {
  API_VERSION,
  GROUP,
  KIND,
  PLURAL,
  SHORT_NAMES,
  SINGULAR,
  VERSION,
  spec as specSchema,
  status as statusSchema,
} from './v1alpha1/index.js';
import { RULES } from './v1alpha1/rules.js';

type Json = Record<string, unknown>;

const SAFE_INT = Number.MAX_SAFE_INTEGER;
/** Keywords the OpenAPI v3 structural schema of a CRD does not allow or need. */
const DROPPED_KEYS = ['$schema', 'id', '$id', 'definitions', '$defs'];

/** Rewrites a JSON Schema node (and its children) into a Kubernetes structural schema node. */
function structural(node: Json): Json {
  if ('$ref' in node) throw new Error(`CRD schema must not contain $ref (${JSON.stringify(node)})`);
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    if (DROPPED_KEYS.includes(k)) continue;
    if (k === 'additionalProperties' && v === false) continue;
    if ((k === 'minimum' && v === -SAFE_INT) || (k === 'maximum' && v === SAFE_INT)) continue;
    out[k] = v;
  }
  if (out['x-kubernetes-int-or-string']) {
    // zod emits anyOf [string, integer]; Kubernetes wants exactly this shape.
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
    delete out.type;
    return ordered(out);
  }
  if (out['x-kubernetes-preserve-unknown-fields']) {
    return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, ...pick(out, ['description']) };
  }
  if ('const' in out) {
    out.enum = [out.const];
    delete out.const;
  }
  if (out.anyOf || out.oneOf || out.allOf) {
    throw new Error(
      `CRD schema must not use anyOf/oneOf/allOf outside int-or-string: ${JSON.stringify(node)}`,
    );
  }
  if (out.properties) {
    out.properties = Object.fromEntries(
      Object.entries(out.properties as Record<string, Json>).map(([k, v]) => [k, structural(v)]),
    );
  }
  if (out.additionalProperties && typeof out.additionalProperties === 'object') {
    out.additionalProperties = structural(out.additionalProperties as Json);
  }
  if (out.items) out.items = structural(out.items as Json);
  if (!out.type) throw new Error(`CRD schema node without type: ${JSON.stringify(node)}`);
  if (out.default !== undefined) out.default = expandDefault(out, out.default);
  return ordered(out);
}

/**
 * The API server validates a default value (CEL rules included) as written, without applying the nested
 * defaults first, so an object default of `{}` is expanded here with the defaults of its properties.
 */
function expandDefault(node: Json, value: unknown): unknown {
  if (node.type !== 'object' || typeof value !== 'object' || value === null || Array.isArray(value))
    return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [k, child] of Object.entries((node.properties ?? {}) as Record<string, Json>)) {
    if (out[k] === undefined && child.default !== undefined) out[k] = child.default;
    if (out[k] !== undefined) out[k] = expandDefault(child, out[k]);
  }
  return out;
}

const KEY_ORDER = ['type', 'description', 'default'];
const TRAILING_KEYS = ['properties', 'additionalProperties', 'items', 'required', 'x-kubernetes-validations'];

/** Stable, readable key order: type and description first, children last. */
function ordered(node: Json): Json {
  const rank = (k: string) =>
    KEY_ORDER.includes(k)
      ? KEY_ORDER.indexOf(k)
      : TRAILING_KEYS.includes(k)
        ? 100 + TRAILING_KEYS.indexOf(k)
        : 50;
  return Object.fromEntries(Object.entries(node).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b)));
}

const pick = (o: Json, keys: string[]): Json =>
  Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, o[k]]));

/** The JSON schema node at a dotted path of properties below `root`. */
function nodeAt(root: Json, path: string): Json {
  let node = root;
  for (const key of path === '' ? [] : path.split('.')) {
    const next = (node.properties as Record<string, Json> | undefined)?.[key];
    if (!next) throw new Error(`rule path ${path}: no property ${key}`);
    node = next;
  }
  return node;
}

export function openApiSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const json = z.toJSONSchema(schema, {
    io,
    target: 'openapi-3.0',
    reused: 'inline',
    cycles: 'throw',
    unrepresentable: 'throw',
  }) as Json;
  return structural(json);
}

/** The spec schema with every rule attached as a CEL `x-kubernetes-validations` entry. */
export function specOpenApiSchema(): Json {
  const spec = openApiSchema(specSchema, 'input');
  for (const rule of RULES) {
    const node = nodeAt(spec, rule.at);
    const validations = (node['x-kubernetes-validations'] as Json[] | undefined) ?? [];
    validations.push({
      rule: rule.cel,
      message: rule.message,
      ...(rule.fieldPath ? { fieldPath: rule.fieldPath } : {}),
      ...(rule.transition ? {} : { reason: 'FieldValueInvalid' }),
    });
    node['x-kubernetes-validations'] = validations;
  }
  return spec;
}

const conditionColumn = (name: string, type: string, priority = 0) => ({
  name,
  type: 'string',
  jsonPath: `.status.conditions[?(@.type=="${type}")].status`,
  ...(priority ? { priority } : {}),
});

export function scalableAppCrd(): Json {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${PLURAL}.${GROUP}`,
      labels: {
        'app.kubernetes.io/name': 'scalable-app-operator',
        'app.kubernetes.io/part-of': 'scalable-app-operator',
      },
    },
    spec: {
      group: GROUP,
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: SHORT_NAMES,
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: {
            status: {},
            scale: {
              specReplicasPath: '.spec.web.replicas',
              statusReplicasPath: '.status.web.replicas',
              labelSelectorPath: '.status.web.selector',
            },
          },
          additionalPrinterColumns: [
            conditionColumn('Ready', 'Ready'),
            {
              name: 'Web',
              type: 'string',
              jsonPath: '.status.web.ready',
              description: 'ready/desired web pods',
            },
            {
              name: 'Cache',
              type: 'string',
              jsonPath: '.status.cache.ready',
              description: 'ready/desired Redis pods',
            },
            {
              name: 'Database',
              type: 'string',
              jsonPath: '.status.database.ready',
              description: 'ready/desired database pods',
            },
            { name: 'URL', type: 'string', jsonPath: '.status.url', priority: 1 },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: `${KIND} (${API_VERSION}) turns one resource into a complete scalable web application: web pods behind a load balancer with sticky sessions and an autoscaler, Redis for sessions and cached objects, and a MySQL primary with read replicas and shards.`,
              required: ['spec'],
              properties: {
                apiVersion: {
                  type: 'string',
                  description: 'APIVersion of this object: scalable.dev/v1alpha1.',
                },
                kind: { type: 'string', description: 'Kind of this object: ScalableApp.' },
                metadata: { type: 'object' },
                spec: specOpenApiSchema(),
                status: openApiSchema(statusSchema, 'output'),
              },
            },
          },
        },
      ],
    },
  };
}
