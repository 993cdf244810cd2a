// Preloaded into an operator child process (node --import) by test/harness/operator.ts: the operator's own
// request log, and a SIGKILL at an exact request. It listens on undici's diagnostics channel, which reports
// every request the operator's API client makes; nothing in the operator changes.
//
//   SAPP_TEST_REQUEST_LOG=<file>     append "<METHOD> <path?query> <status>" for each response
//   SAPP_TEST_KILL_AT_WRITE=<k>      SIGKILL this process as the response to its k-th real write arrives
//                                    (POST/PUT/PATCH/DELETE, dry runs not counted): the API server has done
//                                    the write, the operator never learns it
//   SAPP_TEST_KILL_PATHS=<regex>     count only the writes whose path matches (one app's objects)
import { subscribe } from 'node:diagnostics_channel';
import { appendFileSync } from 'node:fs';
import process from 'node:process';

const logFile = process.env.SAPP_TEST_REQUEST_LOG;
const killAt = Number(process.env.SAPP_TEST_KILL_AT_WRITE ?? 0);
const paths = new RegExp(process.env.SAPP_TEST_KILL_PATHS ?? '');
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
let writes = 0;

subscribe('undici:request:headers', ({ request, response }) => {
  const line = `${request.method} ${request.path} ${response.statusCode}`;
  if (logFile) appendFileSync(logFile, `${line}\n`);
  if (!killAt || !WRITES.has(request.method) || /[?&]dryRun=/.test(request.path)) return;
  if (!paths.test(request.path.split('?')[0])) return;
  if (++writes === killAt) {
    if (logFile) appendFileSync(logFile, `KILLED after write ${writes}\n`);
    process.kill(process.pid, 'SIGKILL');
  }
});
