// Reads jest --json result files and prints the closing line CI reads: "N passed, N failed[, N skipped]".
// Exits non-zero when anything failed, a suite failed to run, or no test ran at all.
import { existsSync, readFileSync } from 'node:fs';

interface JestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numRuntimeErrorTestSuites: number;
  success: boolean;
}

let passed = 0;
let failed = 0;
let skipped = 0;
let broken = Number(process.env.EXTRA_FAILED ?? 0);
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) {
    console.error(`summary: ${file} is missing (the run did not finish)`);
    broken++;
    continue;
  }
  const r = JSON.parse(readFileSync(file, 'utf8')) as JestJson;
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + r.numTodoTests;
  broken += r.numRuntimeErrorTestSuites + (r.success ? 0 : r.numFailedTests === 0 ? 1 : 0);
}
// A suite that could not run (or a missing result) counts as one failure so the line never reads green.
failed += broken;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
