// `make demo-load`: a bounded load on the demo's shop, so a person watches the HPA scale the web tier out (and,
// a minute after the load ends, back in) while the shop keeps answering. It stops by itself.
//
//   tsx scripts/demo-load.ts   (DEMO_LOAD_SECONDS default 180, DEMO_LOAD_RPS default 120, DEMO_LOAD_SHOPPERS 16,
//                               DEMO_URL default http://127.0.0.1:38080 with Host shop.localhost)
//
// Every 10 s it prints the requests, failures and pods of the last wave and the HPA's replicas.
import { execFileSync } from 'node:child_process';
import { Budget, runLoad, Shopper } from '../e2e/harness/load.js';
import { DEMO_HOST } from './demo-app.js';

const seconds = Number(process.env.DEMO_LOAD_SECONDS ?? 180);
const rps = Number(process.env.DEMO_LOAD_RPS ?? 120);
const shoppers = Number(process.env.DEMO_LOAD_SHOPPERS ?? 16);
const origin = process.env.DEMO_URL ?? 'http://127.0.0.1:38080';
const namespace = process.env.DEMO_NAMESPACE ?? 'shop';
const WAVE_SECONDS = 10;

function hpa(): string {
  try {
    return execFileSync(
      'kubectl',
      [
        '-n',
        namespace,
        'get',
        'hpa',
        '-o',
        'jsonpath={range .items[*]}{.status.currentReplicas}→{.status.desiredReplicas} pods, CPU {.status.currentMetrics[0].resource.current.averageUtilization}%{end}',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
  } catch {
    return 'HPA not readable (is KUBECONFIG the demo cluster?)';
  }
}

const crowd = Array.from(
  { length: shoppers },
  (_, i) => new Shopper(i, 1 + (i % 50), { origin, host: DEMO_HOST }),
);
const started = Date.now();
let requests = 0;
let failed = 0;
console.log(
  `demo-load: ${shoppers} shoppers, ${rps} requests/s for ${seconds} s through ${origin} (Host ${DEMO_HOST})`,
);
for (let wave = 1; (Date.now() - started) / 1000 < seconds; wave++) {
  const left = Math.min(WAVE_SECONDS, seconds - (Date.now() - started) / 1000);
  const r = await runLoad({ shoppers: crowd, budget: new Budget(Math.ceil(rps * left), left, rps) });
  requests += r.requests;
  failed += r.failures.length;
  const pods = Object.entries(r.pods)
    .map(([pod, n]) => `${pod.replace(/^.*-web-/, '')}:${n}`)
    .join(' ');
  console.log(
    `demo-load: ${Math.round((Date.now() - started) / 1000)} s  ${r.requests} requests (${r.rps.toFixed(0)}/s, p95 ${r.p95.toFixed(0)} ms), ` +
      `${r.failures.length} failed  pods ${pods || '-'}  HPA ${hpa()}`,
  );
}
const switches = crowd.reduce((n, s) => n + s.switches, 0);
console.log(
  `demo-load: done: ${requests} requests, ${failed} failed, ${switches} pod switches of a shopper (sticky cookie); ` +
    `pods the HPA added serve new sessions while these shoppers stay on theirs; it scales back in about a minute ` +
    `after the load (kubectl -n ${namespace} get hpa -w)`,
);
