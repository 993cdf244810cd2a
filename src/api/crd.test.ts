import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { CRD_FILES, renderCrdYaml } from './crd-file.js';
import { scalableAppCrd } from './crd.js';
import { RULES } from './v1alpha1/rules.js';

type Node = Record<string, unknown> & {
  properties?: Record<string, Node>;
  items?: Node;
  additionalProperties?: Node | boolean;
};

const root = join(import.meta.dirname, '..', '..');
const crd = scalableAppCrd() as { spec: { versions: { schema: { openAPIV3Schema: Node } }[] } };
const schema = crd.spec.versions[0]!.schema.openAPIV3Schema;

function walk(node: Node, path: string, visit: (node: Node, path: string) => void): void {
  visit(node, path);
  for (const [k, child] of Object.entries(node.properties ?? {})) walk(child, `${path}.${k}`, visit);
  if (node.items) walk(node.items, `${path}[]`, visit);
  if (node.additionalProperties && typeof node.additionalProperties === 'object') {
    walk(node.additionalProperties, `${path}{}`, visit);
  }
}

describe('generated CRD', () => {
  it.each(CRD_FILES)('the committed %s is up to date (run make crds)', (file) => {
    expect(readFileSync(join(root, file), 'utf8')).toBe(renderCrdYaml());
  });

  it('generation is deterministic', () => {
    expect(renderCrdYaml()).toBe(renderCrdYaml());
  });

  it('describes every property of spec and status, so kubectl explain reads well', () => {
    const missing: string[] = [];
    walk(schema, '', (node, path) => {
      for (const [k, child] of Object.entries(node.properties ?? {})) {
        if (path === '' && k === 'metadata') continue;
        if (typeof child.description !== 'string' || child.description.length < 8)
          missing.push(`${path}.${k}`);
      }
    });
    expect(missing).toEqual([]);
  });

  it('is structural: every node has a type and nothing Kubernetes rejects', () => {
    const problems: string[] = [];
    walk(schema, '', (node, path) => {
      if (!node.type && !node['x-kubernetes-int-or-string']) problems.push(`${path}: no type`);
      for (const bad of ['$ref', '$schema', 'oneOf', 'allOf', 'not', 'const', 'nullable', '$defs']) {
        if (bad in node) problems.push(`${path}: ${bad}`);
      }
      if (node.additionalProperties === false) problems.push(`${path}: additionalProperties false`);
      if (node.additionalProperties && node.properties)
        problems.push(`${path}: properties and additionalProperties`);
      if (node.anyOf && !node['x-kubernetes-int-or-string']) problems.push(`${path}: anyOf`);
    });
    expect(problems).toEqual([]);
  });

  it('carries every rule as CEL at its path, and no CEL without a zod twin', () => {
    const found: { at: string; rule: string; message: string }[] = [];
    walk(schema.properties!.spec!, '', (node, path) => {
      for (const v of (node['x-kubernetes-validations'] as { rule: string; message: string }[] | undefined) ??
        []) {
        found.push({ at: path.replace(/^\./, ''), rule: v.rule, message: v.message });
      }
    });
    const expected = RULES.map((r) => ({ at: r.at, rule: r.cel, message: r.message }));
    const key = (x: { at: string; rule: string }) => `${x.at} ${x.rule}`;
    expect([...found].sort((a, b) => key(a).localeCompare(key(b)))).toEqual(
      [...expected].sort((a, b) => key(a).localeCompare(key(b))),
    );
  });

  it('transition rules use oldSelf and other rules do not', () => {
    for (const r of RULES)
      expect({ id: r.id, usesOld: r.cel.includes('oldSelf') }).toEqual({ id: r.id, usesOld: !!r.transition });
  });

  it('has the identity, subresources and printer columns of the API contract', () => {
    const doc = YAML.parse(renderCrdYaml());
    expect(doc.metadata.name).toBe('scalableapps.scalable.dev');
    expect(doc.spec.names).toMatchObject({
      kind: 'ScalableApp',
      plural: 'scalableapps',
      shortNames: ['sapp'],
    });
    expect(doc.spec.scope).toBe('Namespaced');
    const v = doc.spec.versions[0];
    expect(v.subresources).toEqual({
      status: {},
      scale: {
        specReplicasPath: '.spec.web.replicas',
        statusReplicasPath: '.status.web.replicas',
        labelSelectorPath: '.status.web.selector',
      },
    });
    expect(v.additionalPrinterColumns.map((c: { name: string }) => c.name)).toEqual([
      'Ready',
      'Web',
      'Cache',
      'Database',
      'URL',
      'Age',
    ]);
  });

  it('object defaults are written out in full (the API server validates a default as written)', () => {
    const spec = schema.properties!.spec!;
    expect(spec.properties!.exposure!.default).toEqual({
      type: 'Service',
      serviceType: 'ClusterIP',
      servicePort: 80,
      sessionAffinity: 'None',
      affinityTimeoutSeconds: 10800,
      cookieName: 'SAPP_AFFINITY',
    });
    expect(spec.properties!.database!.properties!.shards!.default).toEqual({
      count: 0,
      replicasPerShard: 1,
      moveBatchBuckets: 32,
    });
  });

  it('defaults in the CRD are the zod defaults (web.port, cache.persistence, database.engine)', () => {
    const spec = schema.properties!.spec!;
    expect(spec.properties!.web!.properties!.port!.default).toBe(8080);
    expect(spec.properties!.cache!.properties!.persistence!.default).toBe('aof');
    expect(spec.properties!.database!.properties!.engine!.default).toBe('mysql');
    expect(spec.properties!.database!.properties!.engine!.enum).toEqual(['mysql', 'mariadb']);
  });
});
