// End to end in a real browser: Debian's chromium, headless, driven by playwright-core (no browser download),
// opens the shop the operator runs on real pods, the way a person would: through the Ingress on this machine
// (Traefik on the local node, 127.0.0.1:38080; ingress-nginx on kind). It reads the product list and the name of
// the pod that served it, adds to the cart with the page's form (no JavaScript: the page has none), reloads and
// finds the cart and the pod name again, deletes the pod that served it and finds the cart on another pod, and
// checks out: the order page names the shard. Screenshots of every step are kept under
// .local/e2e-artifacts/browser/<time>/ (SAPP_E2E_ARTIFACTS overrides the directory).
//
// SAPP_E2E_BROWSER_URL: open an already running shop instead (for example the one `make demo` prints); the test
// then neither deploys nor deletes a pod. SAPP_CHROMIUM: the browser (default: chromium on the PATH).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { createNamespace, REPO_ROOT } from '../test/harness/cluster.js';
import { applyObj, type Obj } from '../test/harness/apps.js';
import { eventually } from '../test/harness/wait.js';
import { operatorMode, type RunningOperator, startOperatorFor } from './harness/operator.js';
import { Report, secs } from './harness/report.js';
import { kubectlAsync, pods, profile, shopManifest, waitForShopReady, webSelector } from './harness/shop.js';
import { dropNamespace, stopOperator } from './harness/teardown.js';

const { note } = new Report('browser');

const ARTIFACTS =
  process.env.SAPP_E2E_ARTIFACTS ??
  join(REPO_ROOT, '.local/e2e-artifacts/browser', new Date().toISOString().replace(/[:.]/g, '-'));

function chromiumPath(): string {
  const configured = process.env.SAPP_CHROMIUM;
  if (configured) return configured;
  try {
    return execFileSync(
      'bash',
      ['-c', 'command -v chromium || command -v chromium-browser || command -v google-chrome'],
      {
        encoding: 'utf8',
      },
    ).trim();
  } catch {
    throw new Error(
      "e2e browser: no chromium on the PATH. Install Debian's: `apt-get install chromium` (hack/deps.sh e2e does), " +
        'or set SAPP_CHROMIUM',
    );
  }
}

let ns: string | undefined;
let op: RunningOperator | undefined;
let browser: Browser | undefined;
let page: Page;
/** What the browser opens: http://<host>:<port>, the host resolved to 127.0.0.1 by the browser itself. */
let shopUrl: string;
let shots = 0;

async function screenshot(name: string): Promise<void> {
  const file = join(ARTIFACTS, `${String(++shots).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  note(`screenshot ${file}`);
}

const servedBy = async () => (await page.locator('#pod').textContent())?.trim() ?? '';
const quantityOf = async (productId: number) =>
  (await page.locator(`td[data-quantity="${productId}"]`).textContent())?.trim();

/** Deploys the shop behind an Ingress; returns the origin of the ingress controller and the Ingress host. */
async function deployShop(): Promise<{ origin: string; host: string }> {
  ns = createNamespace('e2e-browser');
  const manifest: Obj = shopManifest(ns).obj;
  let host: string;
  if (profile() === 'local') {
    host = `${ns}.browser.example.test`;
    manifest.spec!.exposure = {
      type: 'Ingress',
      sessionAffinity: 'Cookie',
      ingressClassName: 'traefik',
      host,
    };
  } else {
    host = (manifest.spec!.exposure as { host: string }).host;
  }
  const origin = process.env.SAPP_E2E_INGRESS_URL ?? 'http://127.0.0.1';
  op = await startOperatorFor(ns);
  note(`namespace ${ns}, operator ${operatorMode()}, Ingress host ${host} via ${origin}`);
  const t0 = Date.now();
  applyObj(manifest);
  await waitForShopReady(ns, 20 * 60_000);
  note(`apply → Ready: ${secs(Date.now() - t0)}`);
  return { origin, host };
}

describe('the shop in a browser (headless chromium)', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const executablePath = chromiumPath();
    let hostRule: string[] = [];
    if (process.env.SAPP_E2E_BROWSER_URL) {
      shopUrl = process.env.SAPP_E2E_BROWSER_URL.replace(/\/$/, '');
    } else {
      const { origin, host } = await deployShop();
      const ingress = new URL(origin);
      // The browser sends the Ingress host (Host header, cookies) and connects to the controller on this machine.
      hostRule = [`--host-resolver-rules=MAP ${host} ${ingress.hostname}`];
      shopUrl = `http://${host}${ingress.port ? `:${ingress.port}` : ''}`;
    }
    browser = await chromium.launch({ executablePath, headless: true, args: hostRule });
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    note(`${executablePath} (${browser.version()}) opens ${shopUrl}; screenshots in ${ARTIFACTS}`);
  }, 21 * 60_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await stopOperator(op);
    dropNamespace(ns);
  }, 300_000);

  it('opens the shop: the product list and the pod that served it', async () => {
    // The ingress controller picks up a new Ingress and its endpoints within seconds of Ready.
    await eventually(
      'the shop page through the ingress',
      async () =>
        (await page.goto(`${shopUrl}/`))?.status() === 200 && (await page.locator('#pod').count()) === 1,
      { timeoutMs: 90_000, intervalMs: 1000 },
    );
    expect(page.url()).toBe(`${shopUrl}/shop`); // `/` sends a browser to the pages
    expect(await page.title()).toBe('Products · scalable-shop');
    expect(await page.locator('li.card').count()).toBe(24);
    const pod = await servedBy();
    note(`product list served by pod ${pod}`);
    if (ns) expect(pods(ns, webSelector).map((p) => p.name)).toContain(pod);
    await expect(page.locator('#served').textContent()).resolves.toMatch(/Catalog\s*read from/);
    await screenshot('catalog');
  });

  it('adds to the cart, reloads, and finds the cart and the pod name', async () => {
    await page.locator('a[href="/shop/products/3"]').click();
    await page.waitForURL(`${shopUrl}/shop/products/3`);
    const cache = await page.locator('[data-cache]').getAttribute('data-cache');
    note(`product 3 came from ${cache === 'hit' ? 'the Redis object cache' : 'the database'} (${cache})`);
    expect(['hit', 'miss']).toContain(cache);
    await screenshot('product');

    await page.locator('input[name="quantity"]').fill('2');
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await page.waitForURL(`${shopUrl}/shop/cart`); // the form's POST answered 303 to the cart
    expect(await quantityOf(3)).toBe('2');
    await screenshot('cart');

    await page.reload(); // a GET of the cart: the POST is not sent again
    expect(page.url()).toBe(`${shopUrl}/shop/cart`);
    expect(await quantityOf(3)).toBe('2');
    expect(await page.locator('#cart-link').textContent()).toBe('Cart (2)');
    const pod = await servedBy();
    expect(pod).not.toBe('');
    if (ns) expect(pods(ns, webSelector).map((p) => p.name)).toContain(pod);
    expect(await page.locator('#served').textContent()).toContain('survives this pod being killed');
    note(`cart after reload: 2 × product 3, served by pod ${pod}`);
    await screenshot('cart-reloaded');
  });

  it('keeps the cart when the pod that served it is deleted', async () => {
    if (!ns) {
      note('SAPP_E2E_BROWSER_URL: not deleting a pod of a shop this test did not deploy');
      return;
    }
    const gone = await servedBy();
    await kubectlAsync(['-n', ns, 'delete', 'pod', gone, '--wait=true']);
    await eventually(
      'the cart served by another pod',
      async () => (await page.reload())?.status() === 200 && (await servedBy()) !== gone,
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    expect(await quantityOf(3)).toBe('2');
    note(`pod ${gone} deleted: the cart (2 × product 3) now served by pod ${await servedBy()}`);
    await screenshot('cart-after-pod-deleted');
  });

  it('checks out: the order page names the shard the order went to', async () => {
    await page.goto(`${shopUrl}/shop/cart`);
    await page.locator('input[name="customer"]').fill('4242');
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.waitForURL(/\/shop\/orders\/\d+$/);
    expect(await page.locator('h1').textContent()).toMatch(/^Order \d+ is placed$/);
    const shard = (await page.locator('#order-shard').textContent())?.trim();
    expect(shard).toMatch(/^(shard \d+|unsharded)$/);
    note(
      `order ${page.url().split('/').pop()} for customer 4242 went to ${shard}, served by pod ${await servedBy()}`,
    );
    await screenshot('order');
    await page.goto(`${shopUrl}/shop/cart`);
    await expect(page.locator('#cart-empty').count()).resolves.toBe(1);
  });
});
