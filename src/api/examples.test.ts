import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { parseScalableApp } from './v1alpha1/parse.js';

const examples = join(import.meta.dirname, '..', '..', 'examples');
const files = readdirSync(examples).filter((f) => f.endsWith('.yaml'));

describe('examples', () => {
  it('there are examples to check', () => {
    expect(files).toEqual(expect.arrayContaining(['shop.yaml', 'minimal.yaml']));
  });

  it.each(files)('%s parses with the API schema', (file) => {
    const docs = YAML.parseAllDocuments(readFileSync(join(examples, file), 'utf8')).map((d) => d.toJS());
    for (const doc of docs.filter((d) => d?.kind === 'ScalableApp')) {
      const result = parseScalableApp(doc);
      expect(result.ok ? 'ok' : result.message).toBe('ok');
    }
  });

  it('shop.yaml is the full shop: cookie Ingress, autoscaling 2-10, Redis AOF, MySQL 2 replicas and 2 shards, a worker', () => {
    const result = parseScalableApp(YAML.parse(readFileSync(join(examples, 'shop.yaml'), 'utf8')));
    if (!result.ok) throw new Error(result.message);
    const { spec } = result.value;
    expect(spec.exposure).toMatchObject({ type: 'Ingress', sessionAffinity: 'Cookie' });
    expect(spec.web.autoscaling).toMatchObject({ enabled: true, minReplicas: 2, maxReplicas: 10 });
    expect(spec.cache).toMatchObject({ enabled: true, persistence: 'aof' });
    expect(spec.database).toMatchObject({ engine: 'mysql', replicas: 2, shards: { count: 2 } });
    expect(spec.workers).toMatchObject({ enabled: true, command: ['node', 'dist/worker.js'] });
  });

  it.each(['shop.yaml', 'shop-mariadb.yaml'])(
    '%s runs a worker entrypoint that the shop image builds (dist/x.js from examples/shop-app/src/x.ts)',
    (file) => {
      const result = parseScalableApp(YAML.parse(readFileSync(join(examples, file), 'utf8')));
      if (!result.ok) throw new Error(result.message);
      const script = result.value.spec.workers!.command[1]!;
      expect(script).toMatch(/^dist\/[\w-]+\.js$/);
      const source = join(examples, 'shop-app/src', script.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
      expect(existsSync(source)).toBe(true);
    },
  );

  it('minimal.yaml is web only', () => {
    const result = parseScalableApp(YAML.parse(readFileSync(join(examples, 'minimal.yaml'), 'utf8')));
    if (!result.ok) throw new Error(result.message);
    expect(result.value.spec.cache).toBeUndefined();
    expect(result.value.spec.database).toBeUndefined();
    expect(result.value.spec.workers).toBeUndefined();
  });
});
