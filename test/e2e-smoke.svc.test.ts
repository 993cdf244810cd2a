// The fast part of the e2e suite that CI runs every time (the full suite needs the local real node; see
// e2e/README.md): the e2e load generator and its checks drive two real shop instances (real Redis, MariaDB with
// a replica, two shards) through a real load balancer, HAProxy with cookie stickiness (round robin, an inserted
// SERVERID cookie, health checks on /readyz, redispatch). Under a bounded load no request fails, no cart is
// lost, each shopper stays on the instance HAProxy picked for it, and the instances serve sessions
// interchangeably: a shopper sent to the other instance, or moved there because its own stopped mid-run, keeps
// its cart.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { Budget, runLoad, Shopper } from '../e2e/harness/load.js';
import { createShopApp, type ShopApp } from '../examples/shop-app/src/app.js';
import { parseConfig } from '../examples/shop-app/src/config.js';
import { startShopServers, type ShopServers } from '../examples/shop-app/test/servers.js';
import { type HAProxy, startHAProxy } from './services/haproxy.js';
import { waitFor } from './services/ports.js';

const PODS = ['pod-a', 'pod-b'];
let servers: ShopServers;
const apps: ShopApp[] = [];
let lb: HAProxy;

beforeAll(async () => {
  servers = await startShopServers({ mainReplica: true, shards: 2 });
  await servers.createDatabase('shop');
  for (const pod of PODS) {
    const app = createShopApp(parseConfig({ ...servers.env('shop'), PORT: '0', POD_NAME: pod }), {
      host: '127.0.0.1',
      logger: pino({ level: 'silent' }),
      // No drain: a stopped instance refuses connections at once, before HAProxy's health checks notice.
      drainDelayMs: 0,
    });
    await app.start();
    apps.push(app);
  }
  lb = await startHAProxy({ servers: PODS.map((name, i) => ({ name, port: apps[i]!.port })) });
}, 120_000);

afterAll(async () => {
  await lb?.stop();
  await Promise.all(apps.map((a) => a.stop()));
  await servers?.stop();
}, 60_000);

const through = () => ({ origin: lb.url });

/** Shopper ids per pod that served them last. */
const byPod = (shoppers: Shopper[]) =>
  Object.fromEntries(PODS.map((p) => [p, shoppers.filter((s) => s.pod === p).map((s) => s.id)]));

describe('e2e smoke: the shop behind HAProxy under a bounded load', () => {
  let live: Shopper[] = [];

  afterAll(async () => {
    await Promise.all(live.map((s) => s.close()));
  });

  it('spreads shoppers over both instances and keeps each on its own: 600 requests, none failed, no cart lost', async () => {
    live = Array.from({ length: 8 }, (_, i) => new Shopper(i, 1000 + i, through()));
    // Every shopper starts a session; round robin hands out the instances in turn.
    for (const s of live) expect((await s.addToCart(1 + s.id)).status).toBe(200);
    const result = await runLoad({ shoppers: live, budget: new Budget(600, 30, 200) });
    for (const s of live) expect((await s.checkCart()).intact).toBe(true);
    console.log(
      `e2e smoke (HAProxy): ${result.requests} requests, ${result.rps.toFixed(0)}/s, p95 ${result.p95.toFixed(1)} ms, ` +
        `shoppers per pod ${JSON.stringify(byPod(live))}`,
    );
    expect(result.failures).toEqual([]);
    expect(result.requests).toBe(600);
    expect(live.map((s) => s.lostCarts)).toEqual(live.map(() => 0));
    // Sticky: no shopper was ever served by another pod than its first, and its cookie names that pod.
    expect(live.map((s) => s.podHistory.map((h) => h.pod))).toEqual(live.map((s) => [s.pod]));
    expect(live.map((s) => s.cookies.get('SERVERID'))).toEqual(live.map((s) => s.pod));
    // Spread: round robin gave each instance half of the shoppers.
    expect(Object.values(byPod(live)).map((ids) => ids.length)).toEqual([4, 4]);
  }, 90_000);

  it('shares sessions: a shopper whose cookie names the other instance lands there with its cart', async () => {
    for (const s of live) {
      const other = PODS.find((p) => p !== s.pod)!;
      const moved = s.moveTo(through());
      moved.cookies.set('SERVERID', other);
      const { reply, intact } = await moved.checkCart();
      await moved.close();
      expect({ shopper: s.id, pod: reply.pod, intact }).toEqual({ shopper: s.id, pod: other, intact: true });
    }
  }, 30_000);

  it('moves the shoppers of an instance stopped mid-run to the other, carts intact, no request failed', async () => {
    const [stopped, kept] = PODS as [string, string];
    const before = new Map(live.map((s) => [s, s.pod]));
    const budget = new Budget(600, 30, 150);
    let stoppedAt: number | undefined;
    const stopping = (async () => {
      while (budget.issued < 200) await new Promise((r) => setTimeout(r, 20));
      stoppedAt = Date.now();
      // It refuses new connections at once: HAProxy retries the requests that find it gone and, with option
      // redispatch, sends them to the other instance (without redispatch each of its shoppers' next request
      // failed with HAProxy's 503); in-flight ones finish.
      await apps[PODS.indexOf(stopped)]!.stop();
    })();
    const [result] = await Promise.all([runLoad({ shoppers: live, budget }), stopping]);
    await waitFor('HAProxy to see the stopped instance down', async () => {
      const states = await lb.states();
      return states[stopped]!.startsWith('DOWN') && states[kept] === 'UP';
    });
    for (const s of live) expect((await s.checkCart()).intact).toBe(true);
    const movedAt = live
      .filter((s) => before.get(s) === stopped)
      .map((s) => s.podHistory.at(-1)!.t - stoppedAt!);
    console.log(
      `e2e smoke (HAProxy, ${stopped} stopped after 200 requests): ${result.requests} requests, ` +
        `${result.failures.length} failed, shoppers moved ${movedAt.map((ms) => `+${ms} ms`).join(', ')}`,
    );

    expect(result.failures).toEqual([]);
    expect(result.requests).toBe(600);
    expect(live.map((s) => s.lostCarts)).toEqual(live.map(() => 0));
    expect(Math.max(...movedAt)).toBeLessThan(1_500); // redispatched at once, not after HAProxy's 1 s turn-arounds
    // Its shoppers moved once, to the other instance (which HAProxy's new cookie now names); the others stayed.
    expect(
      live.map((s) => ({
        shopper: s.id,
        pods: s.podHistory.map((h) => h.pod).slice(-2),
        cookie: s.cookies.get('SERVERID'),
      })),
    ).toEqual(
      live.map((s) => ({
        shopper: s.id,
        pods: before.get(s) === stopped ? [stopped, kept] : [kept],
        cookie: kept,
      })),
    );
    expect(live.filter((s) => before.get(s) === stopped).map((s) => s.switches)).toEqual([1, 1, 1, 1]);
    expect(live.filter((s) => before.get(s) === kept).map((s) => s.switches)).toEqual([0, 0, 0, 0]);
  }, 90_000);
});
