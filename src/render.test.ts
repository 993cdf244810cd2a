import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { EXAMPLES_DIR } from '../test/fixtures/build-context.js';
import type { K8sObject } from './builders/types.js';
import {
  PLACEHOLDER_SECRET,
  PLACEHOLDER_UID,
  RENDER_HEADER,
  renderCommand,
  RenderError,
  type RenderIO,
  renderDocuments,
  renderObjects,
} from './render.js';

const example = (file: string) => readFileSync(join(EXAMPLES_DIR, file), 'utf8');
const docs = (yaml: string) => parseAllDocuments(yaml).map((d) => d.toJS() as K8sObject);

const app = (spec: string, metadata = 'name: shop\n  namespace: shop') =>
  `apiVersion: scalable.dev/v1alpha1\nkind: ScalableApp\nmetadata:\n  ${metadata}\nspec:\n${spec}`;
const WEB = '  web: {image: shop:1}\n';

describe('renderDocuments', () => {
  it('renders shop.yaml as YAML documents that parse back to the built objects', () => {
    const out = renderDocuments(example('shop.yaml'));
    expect(out.startsWith(RENDER_HEADER)).toBe(true);
    const objects = docs(out);
    expect(objects).toEqual(renderObjects(example('shop.yaml')));
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(
      expect.arrayContaining([
        'Secret/shop-binding',
        'Deployment/shop-web',
        'HorizontalPodAutoscaler/shop-web',
        'Ingress/shop-web',
      ]),
    );
  });

  it('is reproducible: the same input renders the same text', () => {
    expect(renderDocuments(example('shop.yaml'))).toBe(renderDocuments(example('shop.yaml')));
  });

  it('marks the credentials and uid as placeholders', () => {
    const objects = renderObjects(example('shop.yaml'));
    const secret = objects[0] as unknown as { data: Record<string, string> };
    const writeUrl = new URL(Buffer.from(secret.data['DATABASE_WRITE_URL']!, 'base64').toString());
    expect(decodeURIComponent(writeUrl.password)).toBe(PLACEHOLDER_SECRET);
    for (const o of objects)
      expect(o.metadata.ownerReferences?.[0]?.uid ?? PLACEHOLDER_UID).toBe(PLACEHOLDER_UID);
  });

  it.each([
    {
      name: 'an app without namespace goes to "default"',
      text: app(WEB, 'name: hello'),
      opts: {},
      ns: 'default',
    },
    {
      name: 'or to the namespace option',
      text: app(WEB, 'name: hello'),
      opts: { namespace: 'team' },
      ns: 'team',
    },
    {
      name: "an app's own namespace wins over the option",
      text: app(WEB),
      opts: { namespace: 'team' },
      ns: 'shop',
    },
  ])('$name', ({ text, opts, ns }) => {
    for (const o of renderObjects(text, opts)) expect(o.metadata.namespace).toBe(ns);
  });

  it('skips other kinds and empty documents, and renders every ScalableApp', () => {
    const text = [
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}',
      '',
      app(WEB),
      app(WEB, 'name: blog\n  namespace: shop'),
    ].join('\n---\n');
    const names = new Set(renderObjects(text).map((o) => o.metadata.labels!['app.kubernetes.io/instance']));
    expect([...names]).toEqual(['shop', 'blog']);
  });

  it.each([
    {
      name: 'an invalid spec names the document, the app and the field',
      text: app('  web: {image: shop:1, autoscaling: {minReplicas: 5, maxReplicas: 2}}\n'),
      message:
        'in.yaml: document 1 (shop): spec.web.autoscaling.minReplicas: minReplicas must be less than or equal to maxReplicas',
    },
    {
      name: 'a missing image names spec.web.image in the second document',
      text: `${app(WEB)}\n---\n${app('  web: {port: 80}\n', 'name: blog')}`,
      message: 'in.yaml: document 2 (blog): spec.web.image:',
    },
    {
      name: 'a missing name is named',
      text: app(WEB, 'namespace: shop'),
      message: 'in.yaml: document 1: metadata.name: is required',
    },
    {
      name: 'broken YAML is reported as such',
      text: 'kind: [ScalableApp',
      message: 'in.yaml: document 1: invalid YAML:',
    },
    {
      name: 'a file without ScalableApp is an error',
      text: 'kind: ConfigMap',
      message: 'in.yaml: no ScalableApp document found',
    },
  ])('$name', ({ text, message }) => {
    expect(() => renderDocuments(text, { source: 'in.yaml' })).toThrow(RenderError);
    expect(() => renderDocuments(text, { source: 'in.yaml' })).toThrow(message);
  });

  it('matches the snapshot for minimal.yaml', () => {
    expect(renderDocuments(example('minimal.yaml'))).toMatchSnapshot();
  });
});

describe('renderCommand', () => {
  const files: Record<string, string> = {
    'a.yaml': app(WEB),
    'b.yaml': app(WEB, 'name: blog\n  namespace: blog'),
    '-': app(WEB, 'name: piped'),
    'bad.yaml': app('  web: {image: shop:1, port: 0}\n'),
  };
  const run = (...args: string[]) => {
    const out = { stdout: '', stderr: '' };
    const io: RenderIO = {
      readFile: (path) => {
        if (!(path in files)) throw new Error(`ENOENT: no such file, open '${path}'`);
        return files[path]!;
      },
      stdout: (t) => void (out.stdout += t),
      stderr: (t) => void (out.stderr += t),
    };
    return { code: renderCommand(args, io), ...out };
  };

  it('renders every -f file, in order, into one stream', () => {
    const { code, stdout, stderr } = run('-f', 'a.yaml', '--filename', 'b.yaml');
    expect([code, stderr]).toEqual([0, '']);
    const namespaces = docs(stdout).map((o) => o.metadata.namespace);
    expect(namespaces[0]).toBe('shop');
    expect(namespaces.at(-1)).toBe('blog');
  });

  it('reads standard input for -f - and applies -n to apps without namespace', () => {
    const { code, stdout } = run('-f', '-', '-n', 'piped-ns');
    expect(code).toBe(0);
    expect(docs(stdout)[0]!.metadata).toMatchObject({ name: 'piped-web', namespace: 'piped-ns' });
  });

  it.each([
    {
      name: 'an invalid spec',
      args: ['-f', 'bad.yaml'],
      code: 1,
      stderr: 'render: bad.yaml: document 1 (shop): spec.web.port:',
    },
    {
      name: 'an unreadable file',
      args: ['-f', 'nope.yaml'],
      code: 1,
      stderr: 'render: nope.yaml: cannot read: ENOENT',
    },
    { name: 'no file', args: [], code: 2, stderr: 'at least one -f FILE is required' },
    {
      name: 'an unknown option',
      args: ['-f', 'a.yaml', '--output', 'json'],
      code: 2,
      stderr: "Unknown option '--output'",
    },
  ])('$name exits $code with a message and no output', ({ args, code, stderr }) => {
    const result = run(...args);
    expect(result.code).toBe(code);
    expect(result.stderr).toContain(stderr);
    expect(result.stdout).toBe('');
  });

  it('--help prints the usage', () => {
    const { code, stdout } = run('--help');
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: scalable-app-operator render -f FILE');
  });
});
