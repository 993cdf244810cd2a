// The fast part of the e2e suite that CI runs every time (the full suite needs the local real node; see
// e2e/README.md): the e2e load generator and its checks drive two real shop instances (real Redis, MariaDB with
// a replica, two shards) with a bounded load, and no request fails, no cart is lost, every shopper stays on its
// instance, and the instances serve sessions interchangeably.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { Budget, runLoad, Shopper } from '../e2e/harness/load.js';
import { createShopApp, type ShopApp } from '../examples/shop-app/src/app.js';
import { parseConfig } from '../examples/shop-app/src/config.js';
import { startShopServers, type ShopServers } from '../examples/shop-app/test/servers.js';

let servers: ShopServers;
const apps: ShopApp[] = [];

beforeAll(async () => {
  servers = await startShopServers({ mainReplica: true, shards: 2 });
  await servers.createDatabase('shop');
  for (const pod of ['pod-a', 'pod-b']) {
    const app = createShopApp(parseConfig({ ...servers.env('shop'), PORT: '0', POD_NAME: pod }), {
      host: '127.0.0.1',
      logger: pino({ level: 'silent' }),
      drainDelayMs: 0,
    });
    await app.start();
    apps.push(app);
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(apps.map((a) => a.stop()));
  await servers?.stop();
}, 60_000);

describe('e2e smoke: the shop under a bounded load', () => {
  it('serves 600 requests from 8 shoppers with no failure, no lost cart, no pod switch', async () => {
    const shoppers = Array.from(
      { length: 8 },
      (_, i) => new Shopper(i, 1000 + i, { origin: apps[i % 2]!.url.replace(/\/$/, '') }),
    );
    const result = await runLoad({ shoppers, budget: new Budget(600, 30, 200) });
    for (const s of shoppers) await s.checkCart();
    expect(result.failures).toEqual([]);
    expect(result.requests).toBe(600);
    expect(shoppers.map((s) => s.lostCarts)).toEqual(shoppers.map(() => 0));
    expect(shoppers.map((s) => s.switches)).toEqual(shoppers.map(() => 0));
    expect(Object.keys(result.pods).sort()).toEqual(['pod-a', 'pod-b']);
    console.log(
      `e2e smoke: ${result.requests} requests, ${result.rps.toFixed(0)}/s, p95 ${result.p95.toFixed(1)} ms`,
    );

    // Sessions live in Redis: a shopper moved to the other instance keeps its cart.
    const moved = shoppers.map((s, i) => s.moveTo({ origin: apps[(i + 1) % 2]!.url.replace(/\/$/, '') }));
    for (const s of moved) expect((await s.checkCart()).intact).toBe(true);
    await Promise.all([...shoppers, ...moved].map((s) => s.close()));
  }, 90_000);
});
