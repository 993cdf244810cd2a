// A lint of the operator's Dockerfile and .dockerignore (the image cannot be built in CI here): pinned base
// images, a non-root numeric user that matches the Helm chart, CMD in exec form pointing at the compiled CLI,
// production-only dependencies, and a build context that contains every file the Dockerfile copies.
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import YAML from 'yaml';

const root = join(import.meta.dirname, '..');
const read = (rel: string) => readFileSync(join(root, rel), 'utf8');

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions, with line continuations joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(' ') };
    });
}

/** Stages: the instructions from one FROM to the next. */
function stages(instructions: Instruction[]): { from: string; name?: string; body: Instruction[] }[] {
  const out: { from: string; name?: string; body: Instruction[] }[] = [];
  for (const i of instructions) {
    if (i.op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(i.args)!;
      out.push({ from: m[1]!, name: m[2], body: [] });
    } else out.at(-1)?.body.push(i);
  }
  return out;
}

/** Whether .dockerignore lets `path` into the build context (last matching rule wins, `!` re-includes). */
function inContext(dockerignore: string, path: string): boolean {
  const rules = dockerignore
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => ({ include: l.startsWith('!'), pattern: l.replace(/^!/, '').replace(/^\/|\/$/g, '') }));
  // Go's filepath.Match plus `**` (any number of directories, including none), as Docker reads it.
  const toRegex = (p: string) =>
    new RegExp(
      `^${p
        .replace(/\*\*\//g, '%ANYDIRS%')
        .replace(/\*\*/g, '%ANY%')
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')
        .replace(/%ANYDIRS%/g, '(?:.*/)?')
        .replace(/%ANY%/g, '.*')}(/.*)?$`,
    );
  let included = true;
  for (const r of rules) if (toRegex(r.pattern).test(path)) included = r.include;
  return included;
}

const files = (dir: string): string[] =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  const instructions = parseDockerfile(text);
  const all = stages(instructions);
  const runtime = all.at(-1)!;
  const args = Object.fromEntries(
    instructions
      .filter((i) => i.op === 'ARG' && i.args.includes('='))
      .map((i) => i.args.split('=') as [string, string]),
  );

  it('builds in stages and runs from a slim base image named by a build argument', () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(runtime.from).toBe('${BASE_IMAGE}');
    expect(args.BASE_IMAGE).toMatch(/^node:24-[a-z0-9-]*slim$/);
  });

  it('pins every base image to a version (no latest, no bare name)', () => {
    for (const s of all) {
      const image = s.from.replace(/^\$\{(\w+)\}$/, (_, name: string) => args[name] ?? `<unset ${name}>`);
      expect(image).toMatch(/^[^:@\s]+[:@][^:\s]+$/);
      expect(image).not.toMatch(/:latest$/);
    }
  });

  it('installs from the lock file, runs npm run build, and checks the copied assets', () => {
    const build = all.find((s) => s.name === 'build')!;
    const runs = build.body.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(runs.some((r) => r.startsWith('npm install --no-save'))).toBe(true);
    expect(runs.some((r) => r.includes('npm run build') && r.includes('copy-assets.ts --check'))).toBe(true);
  });

  it('ships production dependencies of the root package only', () => {
    const installs = instructions.filter((i) => i.op === 'RUN' && i.args.includes('--omit=dev'));
    expect(installs).toHaveLength(1);
    expect(installs[0]!.args).toMatch(/^npm install --no-save /);
    expect(installs[0]!.args).toContain('--workspaces=false');
    // The runtime stage copies node_modules from the stage that ran that install, never from the build stage.
    const deps = all.find((s) => s.body.includes(installs[0]!))!;
    const copies = runtime.body.filter((i) => i.op === 'COPY' && i.args.includes('node_modules'));
    expect(copies.map((c) => c.args)).toEqual([`--from=${deps.name} /src/node_modules ./node_modules`]);
  });

  it('copies package.json into the runtime image ("type": "module" makes dist/ ES modules)', () => {
    expect(JSON.parse(read('package.json')).type).toBe('module');
    expect(runtime.body.some((i) => i.op === 'COPY' && /^package\.json\s/.test(i.args))).toBe(true);
  });

  it('runs as a numeric non-root user, the one the Helm chart sets', () => {
    const user = runtime.body.filter((i) => i.op === 'USER').at(-1)!.args;
    const [uid, gid] = user.split(':').map(Number);
    expect(uid).toBeGreaterThan(0);
    const values = YAML.parse(read('charts/scalable-app-operator/values.yaml')) as {
      podSecurityContext: { runAsUser: number; runAsGroup: number };
    };
    expect(values.podSecurityContext).toMatchObject({ runAsUser: uid, runAsGroup: gid });
  });

  it('starts the compiled CLI in exec form (signals reach node), at the path tsc writes it to', () => {
    const cmd = runtime.body.filter((i) => i.op === 'CMD').at(-1)!.args;
    expect(JSON.parse(cmd)).toEqual(['node', '--max-semi-space-size=2', 'dist/src/cli.js', 'start']);
    expect(instructions.some((i) => i.op === 'ENTRYPOINT')).toBe(false);
    // tsconfig.build.json extends tsconfig.json: outDir dist, rootDir . → src/cli.ts becomes dist/src/cli.js.
    const base = JSON.parse(read('tsconfig.json')).compilerOptions as { outDir: string; rootDir: string };
    const buildCfg = JSON.parse(read('tsconfig.build.json')) as { compilerOptions?: { outDir?: string } };
    const outDir = buildCfg.compilerOptions?.outDir ?? base.outDir;
    expect(join(outDir, relative(base.rootDir, 'src/cli.js'))).toBe('dist/src/cli.js');
    expect(statSync(join(root, 'src/cli.ts')).isFile()).toBe(true);
  });
});

describe('.dockerignore', () => {
  const ignore = read('.dockerignore');

  it('lets in every file the Dockerfile copies from the context', () => {
    const sources = parseDockerfile(read('Dockerfile'))
      .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    const needed = sources.flatMap((s) => (statSync(join(root, s)).isDirectory() ? files(s) : [s]));
    const wanted = needed.filter((f) => !/\.test\.ts$|__snapshots__/.test(f));
    expect(wanted.filter((f) => !inContext(ignore, f))).toEqual([]);
    expect(wanted.length).toBeGreaterThan(20);
  });

  it('keeps out tests, local state and everything else', () => {
    for (const f of [
      'src/config.test.ts',
      'node_modules/zod/package.json',
      '.local/cluster/kubeconfig',
      'dist/src/cli.js',
      'test/chart.int.test.ts',
      '.git/config',
      'README.md',
    ]) {
      expect({ f, inContext: inContext(ignore, f) }).toEqual({ f, inContext: false });
    }
  });
});
