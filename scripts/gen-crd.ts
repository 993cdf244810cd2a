// Writes the generated CRD to crds/ and to the Helm chart (`make crds`). `--check` fails when a file is stale.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CRD_FILES, renderCrdYaml } from '../src/api/crd-file.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const text = renderCrdYaml();
let stale = 0;
for (const rel of CRD_FILES) {
  const file = join(root, rel);
  if (check) {
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      // missing counts as stale
    }
    if (current !== text) {
      console.error(`${rel} is stale: run make crds`);
      stale++;
    }
    continue;
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  console.log(`wrote ${rel}`);
}
process.exit(stale ? 1 : 0);
