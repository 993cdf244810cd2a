// The scale-out phase of an e2e spec, whatever routes the shoppers (kube-proxy with ClientIP affinity, an Ingress
// with a sticky cookie): a first wave of shoppers with sessions loads the web tier until the HPA adds a pod and it
// becomes Ready, a second wave of new clients starts once the new pod can be reached, and the load keeps on for a
// while after that. Everything runs under one bounded Budget.
import { sleep } from '../../test/harness/wait.js';
import { type Budget, type LoadResult, mergeResults, runLoad, type Shopper } from './load.js';
import { MIN_REPLICAS, readyWebEndpoints, type ScaleSample, type ScaleWatcher } from './shop.js';

export interface ScaleOutOptions {
  namespace: string;
  /** Sampling the HPA and the Deployment; started here, stopped before returning. */
  watcher: ScaleWatcher;
  budget: Budget;
  /** Shoppers whose sessions exist before the load: they load the tier from the start. */
  wave1: Shopper[];
  /** New clients, started once the new pod can be reached. */
  wave2: Shopper[];
  /** Load kept on after the first new pod is Ready. */
  afterScaleSeconds: number;
  /**
   * Called once the new pod is Ready and in the Service's EndpointSlice: resolves when whatever routes the shoppers
   * sends new clients to it. Default: 3 s (kube-proxy's next sync). A client that arrives earlier is pinned to an
   * old pod for good.
   */
  newPodReachable?: () => Promise<void>;
}

export interface ScaleOutResult {
  load: LoadResult;
  /** False when the budget ran out (or the phase ended) before the second wave could start. */
  wave2Ran: boolean;
  loadStart: number;
  /** First sample where the HPA wanted more than MIN_REPLICAS pods. */
  decided: ScaleSample | undefined;
  /** First sample with more than MIN_REPLICAS ready pods. */
  ready: ScaleSample | undefined;
  maxReady: number;
}

/** Waits until the HPA has a CPU figure (metrics-server scraped the pods twice); returns the ms waited. */
export async function waitForHpaMetrics(watcher: ScaleWatcher, timeoutMs = 180_000): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const s = await watcher.sample().catch(() => undefined);
    if (s?.cpu !== undefined) return Date.now() - t0;
    await sleep(2000);
  }
  throw new Error(`the HPA had no CPU figure after ${timeoutMs} ms (metrics-server)`);
}

export async function scaleOutUnderLoad(opts: ScaleOutOptions): Promise<ScaleOutResult> {
  const { watcher, budget } = opts;
  watcher.start();
  const loadStart = Date.now();
  let readyAt: number | undefined;
  const stop = () => {
    readyAt ??= watcher.firstReadyScaleOut(loadStart)?.t;
    return readyAt !== undefined && Date.now() - readyAt >= opts.afterScaleSeconds * 1000;
  };
  const ended = () => budget.exhausted || stop();
  const first = runLoad({ shoppers: opts.wave1, budget, stop });
  const second = (async (): Promise<LoadResult | undefined> => {
    while (!ended() && !watcher.firstReadyScaleOut(loadStart)) await sleep(500);
    while (!ended() && (await readyWebEndpoints(opts.namespace)).length <= MIN_REPLICAS) await sleep(500);
    if (ended()) return undefined;
    await (opts.newPodReachable ?? (() => sleep(3000)))();
    if (ended()) return undefined;
    return runLoad({ shoppers: opts.wave2, budget, stop });
  })();
  const [r1, r2] = await Promise.all([first, second]);
  watcher.stop();
  return {
    load: r2 ? mergeResults(r1, r2) : r1,
    wave2Ran: r2 !== undefined,
    loadStart,
    decided: watcher.firstScaleOut(loadStart),
    ready: watcher.firstReadyScaleOut(loadStart),
    maxReady: watcher.maxReady(loadStart),
  };
}
