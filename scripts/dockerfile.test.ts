// A lint of the operator's Dockerfile and .dockerignore (the image cannot be built in CI here): pinned base
// images, a non-root numeric user that matches the Helm chart, CMD in exec form pointing at the compiled CLI,
// production-only dependencies, and a build context that contains every file the Dockerfile copies.
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
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

  it('ships every package the operator imports: each is a production dependency of the root package', () => {
    // The runtime's node_modules are the root package's production dependencies only (--omit=dev
    // --workspaces=false): a package src/ imports that is a devDependency, or only the shop's, is missing there.
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    const sources = files('src').filter((f) => /\.ts$/.test(f) && !/\.test\.ts$|__snapshots__/.test(f));
    const imported = new Set(
      sources.flatMap((f) =>
        [...read(f).matchAll(/(?:\bfrom|\bimport\(?)\s*['"]([^'"./][^'"]*)['"]/g)]
          .map((m) => m[1]!)
          .filter((s) => !s.startsWith('node:'))
          .map((s) =>
            s
              .split('/')
              .slice(0, s.startsWith('@') ? 2 : 1)
              .join('/'),
          ),
      ),
    );
    expect(imported.size).toBeGreaterThan(3);
    expect([...imported].filter((p) => !(p in pkg.dependencies)).sort()).toEqual([]);
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
    expect(JSON.parse(cmd)).toEqual([
      'node',
      '--max-semi-space-size=2',
      '--optimize-for-size',
      'dist/src/cli.js',
      'start',
    ]);
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

/** ARG instructions before the first FROM: the build arguments FROM lines may use, with their defaults. */
function globalArgs(instructions: Instruction[]): Record<string, string> {
  const first = instructions.findIndex((i) => i.op === 'FROM');
  return Object.fromEntries(
    instructions
      .slice(0, first)
      .filter((i) => i.op === 'ARG')
      .map((i) => i.args.split('=') as [string, string]),
  );
}

/** Files the Dockerfile's context COPY instructions name (directories expanded, tests left out). */
function copiedFiles(dockerfile: string): string[] {
  const sources = parseDockerfile(read(dockerfile))
    .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
    .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
  return sources
    .flatMap((s) => (statSync(join(root, s)).isDirectory() ? files(s) : [s]))
    .filter((f) => !/\.test\.ts$|__snapshots__/.test(f));
}

describe('examples/shop-app/Dockerfile', () => {
  const instructions = parseDockerfile(read('examples/shop-app/Dockerfile'));
  const all = stages(instructions);
  const args = globalArgs(instructions);

  it('takes every base image as a build argument whose default is a pinned public Node 24 image', () => {
    for (const s of all.filter((s) => !all.some((t) => t.name === s.from))) {
      const name = /^\$\{(\w+)\}$/.exec(s.from)?.[1];
      expect({ from: s.from, isArg: name !== undefined && name in args }).toEqual({
        from: s.from,
        isArg: true,
      });
      expect(args[name!]).toMatch(/^node:24-[a-z0-9-]+$/);
    }
    expect(all.at(-1)!.from).toBe('${BASE_IMAGE}');
    expect(args.BASE_IMAGE).toMatch(/slim$/);
  });

  it('runs as the numeric non-root user 1000:1000, node in exec form', () => {
    const runtime = all.at(-1)!;
    expect(runtime.body.filter((i) => i.op === 'USER').at(-1)!.args).toBe('1000:1000');
    expect(JSON.parse(runtime.body.filter((i) => i.op === 'CMD').at(-1)!.args)).toEqual([
      'node',
      'dist/server.js',
    ]);
  });

  it('ships production dependencies only: node_modules come from a stage whose installs all omit dev', () => {
    const runtime = all.at(-1)!;
    const copies = runtime.body.filter((i) => i.op === 'COPY' && i.args.includes('node_modules'));
    expect(copies.length).toBeGreaterThan(0);
    for (const c of copies) {
      const from = /--from=(\S+)/.exec(c.args)![1];
      const installs = all
        .find((s) => s.name === from)!
        .body.filter((i) => i.op === 'RUN' && /npm (ci|install)/.test(i.args))
        .map((i) => i.args);
      expect(installs.length).toBeGreaterThan(0);
      expect({ copy: c.args, installs: installs.filter((r) => !r.includes('--omit=dev')) }).toEqual({
        copy: c.args,
        installs: [],
      });
    }
  });

  it('has every file it copies in its build context, by its own ignore file and by the root one', () => {
    const wanted = copiedFiles('examples/shop-app/Dockerfile');
    expect(wanted.length).toBeGreaterThan(10);
    for (const ignore of ['examples/shop-app/Dockerfile.dockerignore', '.dockerignore']) {
      expect({ ignore, missing: wanted.filter((f) => !inContext(read(ignore), f)) }).toEqual({
        ignore,
        missing: [],
      });
    }
  });
});

// The real node's images are these Dockerfiles, built with `buildah bud` by hack/node-images.sh, which prints
// what it would build with (`dockerfile IMAGE`): the file, its ignore file, the build arguments and the inputs
// whose hash keys the cached archive.
describe('hack/node-images.sh builds the Dockerfiles', () => {
  const plan = (image: string) => {
    const out = execFileSync('bash', [join(root, 'hack/node-images.sh'), 'dockerfile', image], {
      encoding: 'utf8',
    });
    const lines = out
      .trim()
      .split('\n')
      .map((l) => l.split(' ') as [string, string]);
    const all = (key: string) => lines.filter(([k]) => k === key).map(([, v]) => v);
    return {
      file: all('file')[0]!,
      ignorefile: all('ignorefile')[0]!,
      buildArgs: all('build-arg'),
      inputs: all('input'),
    };
  };

  it.each([
    ['operator', 'Dockerfile', '.dockerignore'],
    ['shop', 'examples/shop-app/Dockerfile', 'examples/shop-app/Dockerfile.dockerignore'],
  ])('%s: %s with its ignore file, every base image a locally built one', (image, dockerfile, ignorefile) => {
    const p = plan(image);
    expect({ file: p.file, ignorefile: p.ignorefile }).toEqual({ file: dockerfile, ignorefile });
    const declared = Object.keys(globalArgs(parseDockerfile(read(dockerfile)))).sort();
    expect(p.buildArgs.map((a) => a.split('=')[0]).sort()).toEqual(declared);
    for (const a of p.buildArgs) expect(a).toMatch(/^\w+=localhost\/sapp\/node-[a-z]+:\S+$/);
  });

  it.each([
    ['operator', 'Dockerfile', '.dockerignore'],
    ['shop', 'examples/shop-app/Dockerfile', 'examples/shop-app/Dockerfile.dockerignore'],
  ])(
    '%s: the archive is rebuilt when the Dockerfile, its ignore file or a copied file changes',
    (image, dockerfile, ignorefile) => {
      const { inputs } = plan(image);
      const covered = (f: string) => inputs.some((i) => f === i || f.startsWith(`${i}/`));
      expect([dockerfile, ignorefile, ...copiedFiles(dockerfile)].filter((f) => !covered(f))).toEqual([]);
    },
  );
});
