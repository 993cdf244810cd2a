// The Helm chart without a cluster: its RBAC matches what the code requests (src/kube/resources.ts and the
// controller), no wildcards, every env var it sets is one the operator reads, values.yaml and
// values.schema.json describe the same keys, every value is documented and the README's table is current.
// (Rendering, install and the API server's view of the RBAC: test/chart.int.test.ts, test/rbac.int.test.ts.)
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { renderReadme, valueRows, valuesTable, withTable } from '../scripts/chart-readme.js';
import { configSchema } from './config.js';
import {
  DATA_TIER_POD,
  EVENT,
  LEASE,
  OPTIONAL_OWNED_TYPES,
  OWNED_TYPES,
  SCALABLE_APP,
  VOLUME_CLAIM,
} from './kube/resources.js';

const root = join(import.meta.dirname, '..');
const chart = join(root, 'charts', 'scalable-app-operator');
const read = (rel: string) => readFileSync(join(chart, rel), 'utf8');

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** The rules of a `define` in _helpers.tpl (plain YAML apart from template expressions, replaced here). */
function definedRules(name: string): Rule[] {
  const tpl = read('templates/_helpers.tpl');
  const start = tpl.indexOf(`{{- define "${name}" -}}`);
  expect(start).toBeGreaterThanOrEqual(0);
  const body = tpl.slice(tpl.indexOf('\n', start) + 1, tpl.indexOf('{{- end }}', start));
  return YAML.parse(body.replace(/\{\{[^}]*\}\}/g, 'LEASE_NAME')) as Rule[];
}

const group = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0]! : '');

/** verbs granted on group/resource by a list of rules. */
function verbs(rules: Rule[], g: string, resource: string): string[] {
  return rules
    .filter((r) => r.apiGroups.includes(g) && r.resources.includes(resource))
    .flatMap((r) => r.verbs)
    .sort();
}

describe('chart RBAC matches what the operator requests', () => {
  const rules = definedRules('sapp.operatorRules');
  // The informers list + watch every kind; a desired object missing from the caches is read one by one before
  // it is created (controller/ownership.ts); server-side apply is a PATCH (authorized as create as well when
  // the object is new); pruning deletes.
  const OWNED_VERBS = ['create', 'delete', 'get', 'list', 'patch', 'watch'];

  it.each([...OWNED_TYPES, ...OPTIONAL_OWNED_TYPES].map((t) => [t.kind, t] as const))(
    'owned kind %s: exactly get, list, watch, create, patch, delete',
    (_kind, t) => {
      expect(verbs(rules, group(t.apiVersion), t.plural)).toEqual(OWNED_VERBS);
    },
  );

  it('ScalableApps: watched, status patched, finalizers for blockOwnerDeletion, never written', () => {
    const g = group(SCALABLE_APP.apiVersion);
    expect(verbs(rules, g, SCALABLE_APP.plural)).toEqual(['list', 'watch']);
    expect(verbs(rules, g, `${SCALABLE_APP.plural}/status`)).toEqual(['patch']);
    expect(verbs(rules, g, `${SCALABLE_APP.plural}/finalizers`)).toEqual(['update']);
  });

  it('Events: create only', () => {
    expect(verbs(rules, group(EVENT.apiVersion), EVENT.plural)).toEqual(['create']);
  });

  it('database pods: watched, labelled and (to fence) deleted, never exec; claims: delete only', () => {
    expect(verbs(rules, '', DATA_TIER_POD.plural)).toEqual(['delete', 'list', 'patch', 'watch']);
    expect(verbs(rules, '', VOLUME_CLAIM.plural)).toEqual(['delete']);
    expect(rules.flatMap((r) => r.resources).filter((r) => r.includes('exec'))).toEqual([]);
  });

  it('grants nothing on a resource the code does not use', () => {
    const known = new Set(
      [...OWNED_TYPES, ...OPTIONAL_OWNED_TYPES, SCALABLE_APP, EVENT, DATA_TIER_POD, VOLUME_CLAIM].map(
        (t) => `${group(t.apiVersion)}/${t.plural}`,
      ),
    );
    known.add(`${SCALABLE_APP.apiVersion.split('/')[0]}/${SCALABLE_APP.plural}/status`);
    known.add(`${SCALABLE_APP.apiVersion.split('/')[0]}/${SCALABLE_APP.plural}/finalizers`);
    const granted = rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.map((res) => `${g}/${res}`)));
    expect(granted.filter((k) => !known.has(k))).toEqual([]);
  });

  it('the Lease: create, and get/update of the one named Lease only', () => {
    const lease = definedRules('sapp.leaseRules');
    const g = group(LEASE.apiVersion);
    expect(lease).toEqual([
      { apiGroups: [g], resources: [LEASE.plural], verbs: ['create'] },
      { apiGroups: [g], resources: [LEASE.plural], resourceNames: ['LEASE_NAME'], verbs: ['get', 'update'] },
    ]);
  });

  it('has no wildcard anywhere in the templates', () => {
    const templates = readdirSync(join(chart, 'templates'));
    for (const file of templates) {
      const text = read(`templates/${file}`);
      expect({ file, wildcard: /["']\*["']|\[\s*\*|:\s*\*\s*$/m.test(text) }).toEqual({
        file,
        wildcard: false,
      });
    }
  });
});

describe('the Deployment configures the operator through the variables it reads', () => {
  const deployment = read('templates/deployment.yaml');
  const envNames = [...deployment.matchAll(/- name: ([A-Z][A-Z0-9_]*)\s*$/gm)].map((m) => m[1]!);

  it('sets only variables src/config.ts knows', () => {
    const known = Object.keys(configSchema.in.shape);
    expect(envNames.filter((n) => !known.includes(n))).toEqual([]);
  });

  it('sets the identity, scope and lease variables', () => {
    expect(envNames).toEqual(
      expect.arrayContaining([
        'POD_NAME',
        'POD_NAMESPACE',
        'WATCH_NAMESPACE',
        'RESYNC_PERIOD_SECONDS',
        'LEASE_NAMESPACE',
        'HTTP_PORT',
      ]),
    );
  });
});

describe('values', () => {
  const valuesText = read('values.yaml');
  const schema = JSON.parse(read('values.schema.json')) as SchemaNode;
  const rows = valueRows(valuesText, schema);
  interface SchemaNode {
    properties?: Record<string, SchemaNode>;
    additionalProperties?: boolean | SchemaNode;
  }

  it('every value has a comment', () => {
    expect(rows.filter((r) => r.description.length < 10).map((r) => r.key)).toEqual([]);
  });

  it('values.yaml and values.schema.json name the same keys', () => {
    const values = YAML.parse(valuesText) as Record<string, unknown>;
    const missingInSchema: string[] = [];
    const missingInValues: string[] = [];
    const walk = (v: Record<string, unknown>, s: SchemaNode, path: string) => {
      for (const [k, child] of Object.entries(v)) {
        const sub = s.properties?.[k];
        if (!sub) {
          if (s.additionalProperties === false) missingInSchema.push(path + k);
          continue;
        }
        if (child && typeof child === 'object' && !Array.isArray(child) && sub.properties) {
          walk(child as Record<string, unknown>, sub, `${path}${k}.`);
        }
      }
      if (s.additionalProperties === false) {
        for (const k of Object.keys(s.properties ?? {})) {
          if (!(k in v) && k !== 'global') missingInValues.push(path + k);
        }
      }
    };
    walk(values, schema, '');
    expect({ missingInSchema, missingInValues }).toEqual({ missingInSchema: [], missingInValues: [] });
  });

  it('the README values table is current (run: npx tsx scripts/chart-readme.ts)', () => {
    const { current, expected } = renderReadme(chart);
    expect(current).toBe(expected);
  });

  it('the image tag follows the chart, which follows package.json', () => {
    const chartYaml = YAML.parse(read('Chart.yaml')) as { apiVersion: string; appVersion: string };
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(chartYaml.apiVersion).toBe('v2');
    expect(chartYaml.appVersion).toBe(pkg.version);
    expect(rows.find((r) => r.key === 'image.tag')?.default).toBe('');
  });
});

describe('scripts/chart-readme.ts', () => {
  it('documents a map key by key when its keys have comments, and as one value when they do not', () => {
    const rows = valueRows(
      [
        '# File header.',
        '',
        '# How many.',
        'replicas: 2',
        '# The image.',
        'image:',
        '  # Its tag.',
        '  tag: ""',
        '  # Its policy.',
        '  pullPolicy: IfNotPresent',
        '# Requests and limits.',
        'resources:',
        '  requests: {cpu: 50m}',
        'undocumented: 1',
      ].join('\n'),
    );
    expect(rows).toEqual([
      { key: 'replicas', type: 'integer', default: 2, description: 'How many.' },
      { key: 'image.tag', type: 'string', default: '', description: 'Its tag.' },
      { key: 'image.pullPolicy', type: 'string', default: 'IfNotPresent', description: 'Its policy.' },
      {
        key: 'resources',
        type: 'object',
        default: { requests: { cpu: '50m' } },
        description: 'Requests and limits.',
      },
      { key: 'undocumented', type: 'integer', default: 1, description: '' },
    ]);
  });

  it('takes the type from values.schema.json when it allows several (watchNamespace: a string or a list)', () => {
    const schema = {
      properties: { watchNamespace: { anyOf: [{ type: 'string' }, { type: 'array' }] }, replicas: {} },
    };
    const rows = valueRows(
      ['# Where.', "watchNamespace: ''", '# How many.', 'replicas: 2'].join('\n'),
      schema,
    );
    expect(rows.map((r) => [r.key, r.type])).toEqual([
      ['watchNamespace', 'string or list'],
      ['replicas', 'integer'],
    ]);
  });

  it('a stale table is detected and rewritten; a README without the markers is an error', () => {
    const { expected } = renderReadme(chart);
    const stale = expected.replace('| `replicas` | integer | `2` |', '| `replicas` | integer | `3` |');
    expect(stale).not.toBe(expected);
    const schema = JSON.parse(read('values.schema.json')) as Parameters<typeof valueRows>[1];
    expect(withTable(stale, valuesTable(valueRows(read('values.yaml'), schema)))).toBe(expected);
    expect(() => withTable('# no table here', '')).toThrow('needs the markers');
  });
});
