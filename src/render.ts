// `render`: every object the operator would create for the ScalableApps in some YAML, as one multi-document
// YAML stream (like `helm template`), for review and diffs. Reproducible: credentials and owner uids are fixed,
// clearly marked placeholders (the operator generates the real credentials once, with a cryptographic random
// source, and the API server assigns uids). Apply the ScalableApp itself, not this output.
import { parseArgs } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { KIND } from './api/v1alpha1/index.js';
import { parseScalableApp } from './api/v1alpha1/parse.js';
import { buildAll } from './builders/index.js';
import { BuildError, type Credentials, type K8sObject } from './builders/types.js';

/** Stands in for every generated password in rendered output. */
export const PLACEHOLDER_SECRET = '<generated-by-operator>';
/** Stands in for the ScalableApp's uid in the owner references of rendered output. */
export const PLACEHOLDER_UID = '00000000-0000-0000-0000-000000000000';
export const DEFAULT_NAMESPACE = 'default';

export const PLACEHOLDER_CREDENTIALS: Credentials = {
  rootPassword: PLACEHOLDER_SECRET,
  replicationPassword: PLACEHOLDER_SECRET,
  appPassword: PLACEHOLDER_SECRET,
  cachePassword: PLACEHOLDER_SECRET,
  operatorPassword: PLACEHOLDER_SECRET,
};

/** An input the render command cannot build from; the message names the source, document and field. */
export class RenderError extends Error {
  override name = 'RenderError';
}

export interface RenderOptions {
  /** Where the text came from (a file name, or "<stdin>"), for error messages. */
  source?: string;
  /** Namespace of ScalableApps that name none (default "default"), like `helm template --namespace`. */
  namespace?: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses every ScalableApp document of `text` (other kinds and empty documents are skipped) and builds its
 * objects with placeholder credentials and uid. Throws a RenderError naming the field of the first invalid one.
 */
export function renderObjects(text: string, opts: RenderOptions = {}): K8sObject[] {
  const source = opts.source ?? '<input>';
  const objects: K8sObject[] = [];
  let apps = 0;
  parseAllDocuments(text).forEach((doc, i) => {
    const where = `${source}: document ${i + 1}`;
    if (doc.errors.length > 0) throw new RenderError(`${where}: invalid YAML: ${doc.errors[0]!.message}`);
    const value: unknown = doc.toJS();
    if (!isRecord(value) || value.kind !== KIND) return;
    apps++;
    const metadata = isRecord(value.metadata) ? value.metadata : {};
    const parsed = parseScalableApp({
      ...value,
      metadata: {
        ...metadata,
        namespace: metadata.namespace ?? opts.namespace ?? DEFAULT_NAMESPACE,
        uid: metadata.uid ?? PLACEHOLDER_UID,
      },
    });
    const name = typeof metadata.name === 'string' ? ` (${metadata.name})` : '';
    if (!parsed.ok) throw new RenderError(`${where}${name}: ${parsed.message}`);
    if (!parsed.value.metadata.name) throw new RenderError(`${where}: metadata.name: is required`);
    try {
      objects.push(...buildAll({ app: parsed.value, credentials: PLACEHOLDER_CREDENTIALS }));
    } catch (err) {
      if (err instanceof BuildError) throw new RenderError(`${where}${name}: ${err.message}`, { cause: err });
      throw err;
    }
  });
  if (apps === 0) throw new RenderError(`${source}: no ${KIND} document found`);
  return objects;
}

export const RENDER_HEADER =
  `# Rendered by scalable-app-operator render. Passwords are the placeholder "${PLACEHOLDER_SECRET}" (base64 in\n` +
  `# Secret data, URL-encoded in URLs) and owner uids are ${PLACEHOLDER_UID}: the operator and the API\n` +
  `# server assign the real ones. For review and diffs: apply the ScalableApp itself, not this output.\n`;

/** Objects as a multi-document YAML stream, each document headed by `---`. */
export const toYamlStream = (objects: readonly K8sObject[]): string =>
  objects.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join('');

/** `renderObjects` as YAML text, with a header saying what the placeholders are. */
export const renderDocuments = (text: string, opts: RenderOptions = {}): string =>
  RENDER_HEADER + toYamlStream(renderObjects(text, opts));

export interface RenderIO {
  /** Reads a file; "-" means standard input. */
  readFile(path: string): string;
  stdout(text: string): void;
  stderr(text: string): void;
}

export const RENDER_USAGE = `Usage: scalable-app-operator render -f FILE [-f FILE...] [-n NAMESPACE]

Prints every object the operator would create for the ScalableApps in FILE ("-" reads standard input) as
multi-document YAML. Passwords and uids are placeholders, so the output is reproducible and diffable.

  -f, --filename FILE     a YAML file with ScalableApp documents (other kinds are skipped); repeatable
  -n, --namespace NAME    namespace of apps that name none (default "default")
`;

/** The `render` subcommand: returns the exit code (0 rendered, 1 invalid input, 2 usage error). */
export function renderCommand(args: readonly string[], io: RenderIO): number {
  let files: string[];
  let namespace: string | undefined;
  try {
    const { values } = parseArgs({
      args: [...args],
      options: {
        filename: { type: 'string', short: 'f', multiple: true },
        namespace: { type: 'string', short: 'n' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      io.stdout(RENDER_USAGE);
      return 0;
    }
    files = values.filename ?? [];
    namespace = values.namespace;
    if (files.length === 0) throw new Error('at least one -f FILE is required');
  } catch (err) {
    io.stderr(`render: ${(err as Error).message}\n\n${RENDER_USAGE}`);
    return 2;
  }
  try {
    const objects = files.flatMap((file) => {
      const source = file === '-' ? '<stdin>' : file;
      let text: string;
      try {
        text = io.readFile(file);
      } catch (err) {
        throw new RenderError(`${source}: cannot read: ${(err as Error).message}`, { cause: err });
      }
      return renderObjects(text, { source, namespace });
    });
    io.stdout(RENDER_HEADER + toYamlStream(objects));
    return 0;
  } catch (err) {
    if (!(err instanceof RenderError)) throw err;
    io.stderr(`render: ${err.message}\n`);
    return 1;
  }
}
