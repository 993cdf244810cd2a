// Copies the non-TypeScript files under src/ (shell scripts, SQL, my.cnf and redis.conf templates, ...) next to
// the compiled JavaScript in dist/src/, because the builders read them at run time relative to their own module
// (`new URL('./x.sh', import.meta.url)`). Part of `npm run build`, after tsc:
//   tsx scripts/copy-assets.ts            copy (prints what it copied)
//   tsx scripts/copy-assets.ts --check    fail when an asset is missing from dist/ or differs
// Plain Node (>= 22.18, type stripping) runs it too: `node scripts/copy-assets.ts`.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Files that are sources or test material, never run-time assets. */
const SKIP_FILE = /\.(ts|mts|cts|tsx)$|\.snap$|(^|\/)\.DS_Store$/;
const SKIP_DIR = new Set(['__snapshots__', '__fixtures__', 'node_modules']);

/** Paths (relative to `srcDir`, with `/`) of every asset under it, sorted. */
export function assetFiles(srcDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIP_DIR.has(entry.name)) walk(full);
      } else if (entry.isFile()) {
        const rel = relative(srcDir, full).split(sep).join('/');
        if (!SKIP_FILE.test(rel)) out.push(rel);
      }
    }
  };
  walk(srcDir);
  return out.sort();
}

/** Copies every asset from `srcDir` to the same relative path under `outDir`; returns the relative paths. */
export function copyAssets(srcDir: string, outDir: string): string[] {
  const files = assetFiles(srcDir);
  for (const rel of files) {
    const to = join(outDir, rel);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(join(srcDir, rel), to);
  }
  return files;
}

/** Assets that are missing under `outDir` or differ from their source. */
export function staleAssets(srcDir: string, outDir: string): string[] {
  return assetFiles(srcDir).filter((rel) => {
    try {
      return !readFileSync(join(outDir, rel)).equals(readFileSync(join(srcDir, rel)));
    } catch {
      return true;
    }
  });
}

function main(argv: string[]): number {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  // tsconfig.build.json: rootDir "." and outDir "dist", so src/x.ts compiles to dist/src/x.js.
  const srcDir = join(root, 'src');
  const outDir = join(root, 'dist', 'src');
  if (argv.includes('--check')) {
    const stale = staleAssets(srcDir, outDir);
    for (const rel of stale) console.error(`dist/src/${rel} is missing or stale: run npm run build`);
    return stale.length ? 1 : 0;
  }
  if (!statSync(outDir, { throwIfNoEntry: false })?.isDirectory()) {
    console.error('dist/src does not exist: run tsc -p tsconfig.build.json first');
    return 1;
  }
  const files = copyAssets(srcDir, outDir);
  console.log(`copied ${files.length} asset(s) to dist/src: ${files.join(', ')}`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1])
  process.exitCode = main(process.argv);
