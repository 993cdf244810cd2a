// k6 load on the example shop (examples/shop.yaml behind ingress-nginx): shoppers browse the catalog, open
// product pages, add to their cart and now and then place an order. Run by e2e/kind/run.sh:
//
//   k6 run --env BASE_URL=http://127.0.0.1:80 --env HOST=shop.example.test e2e/load/shop.js
//
// Environment: BASE_URL (where the ingress listens; default http://127.0.0.1), HOST (the Ingress host; default
// shop.example.test), VUS (peak virtual users; default 20), DURATION (total; default 4m: a quarter ramping up, half
// at the peak, a quarter ramping down), P95_MS (the p95 latency bound; default 800), THINK_MS (pause between
// visits; default 1000), ORDER_EVERY (a visit in N places an order; default 5), MAX_SWITCHES (pod switches
// allowed over the whole run; default 0).
//
// What it checks, beyond per-request status codes:
//   - cart_intact: every shopper keeps one session (one cookie jar for the whole run: noCookiesReset) and
//     knows what its cart must hold; every GET /cart and every POST /cart answer must match exactly, whichever
//     pod serves it, for the whole run. Orders take the ordered items out, and must contain exactly the cart.
//   - sticky / pod_switches: every response names its pod (X-Served-By). Cookie affinity (ingress-nginx,
//     affinity-mode persistent) must keep a shopper on its pod while pods are stable: scale-out adds pods but
//     moves nobody, and the run is shorter than the HPA's scale-down window, so no pod goes away. A switch is a
//     response from another pod than the shopper's previous one.
//   - thresholds: http_req_failed < 1 %, p(95) of http_req_duration < P95_MS, cart_intact 100 %, sticky > 99 %.
import http from 'k6/http';
import { check, fail, sleep } from 'k6';
import exec from 'k6/execution';
import { Counter, Rate, Trend } from 'k6/metrics';

const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1').replace(/\/+$/, '');
// k6's JavaScript runtime has no URL class: scheme, address and port by hand.
const BASE = /^(https?):\/\/([^/:]+)(?::(\d+))?$/.exec(BASE_URL);
if (!BASE) throw new Error(`BASE_URL ${BASE_URL}: use http(s)://<address>[:<port>]`);
const [, SCHEME, ADDRESS, PORT] = BASE;
const HOST = __ENV.HOST || 'shop.example.test';
const VUS = Number(__ENV.VUS || 20);
const P95_MS = Number(__ENV.P95_MS || 800);
const THINK_MS = Number(__ENV.THINK_MS || 1000);
const ORDER_EVERY = Number(__ENV.ORDER_EVERY || 5);
const MAX_SWITCHES = Number(__ENV.MAX_SWITCHES || 0);
const PRODUCTS = 24; // the seeded catalog

/** "4m", "90s", "1m30s" or plain seconds → seconds. */
function seconds(text) {
  if (/^\d+$/.test(text)) return Number(text);
  let total = 0;
  const re = /(\d+)(h|m|s)/g;
  let m;
  while ((m = re.exec(text))) total += Number(m[1]) * { h: 3600, m: 60, s: 1 }[m[2]];
  if (!total) throw new Error(`DURATION ${text}: use e.g. 4m, 90s or 1m30s`);
  return total;
}
const TOTAL = seconds(__ENV.DURATION || '4m');
const RAMP = Math.max(1, Math.round(TOTAL / 4));

export const options = {
  scenarios: {
    shoppers: {
      executor: 'ramping-vus',
      startVUs: 1,
      stages: [
        { duration: `${RAMP}s`, target: VUS },
        { duration: `${TOTAL - 2 * RAMP}s`, target: VUS },
        { duration: `${RAMP}s`, target: 0 },
      ],
      gracefulRampDown: '20s',
    },
  },
  // One session per shopper for the whole run (k6 would otherwise empty the cookie jar every iteration).
  noCookiesReset: true,
  // The Ingress is name-based: send its host, to the address the ingress controller listens on.
  hosts: { [HOST]: ADDRESS },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    http_req_duration: [`p(95)<${P95_MS}`],
    cart_intact: ['rate>=1'],
    sticky: ['rate>0.99'],
    pod_switches: [`count<=${MAX_SWITCHES}`],
    checks: ['rate>0.99'],
  },
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
};

const ORIGIN = `${SCHEME}://${HOST}${PORT ? `:${PORT}` : ''}`;

const cartIntact = new Rate('cart_intact');
const sticky = new Rate('sticky');
const podSwitches = new Counter('pod_switches');
const orders = new Counter('orders_placed');
const podsSeen = new Trend('pods_seen_per_shopper');

// Per-VU state (module scope is per VU in k6).
const state = { cart: {}, pod: null, switches: 0, pods: {}, visits: 0 };

const JSON_HEADERS = { 'Content-Type': 'application/json' };

function served(res, name) {
  const pod = res.headers['X-Served-By'];
  if (!pod) return;
  state.pods[pod] = true;
  if (state.pod !== null) {
    const same = pod === state.pod;
    sticky.add(same, { name });
    if (!same) {
      state.switches++;
      podSwitches.add(1, { name });
    }
  }
  state.pod = pod;
}

/** The cart as {productId: quantity} from a cart view ({items: [{productId, quantity}]}). */
function quantities(view) {
  const out = {};
  for (const item of (view && view.items) || []) out[item.productId] = item.quantity;
  return out;
}

function sameCart(actual, expected) {
  const a = Object.keys(actual);
  const e = Object.keys(expected);
  return a.length === e.length && e.every((k) => actual[k] === expected[k]);
}

function get(path, name, params = {}) {
  const res = http.get(`${ORIGIN}${path}`, { tags: { name }, ...params });
  served(res, name);
  return res;
}

function post(path, body, name, params = {}) {
  const res = http.post(`${ORIGIN}${path}`, JSON.stringify(body), {
    headers: JSON_HEADERS,
    tags: { name },
    ...params,
  });
  served(res, name);
  return res;
}

// Orders must not run out of stock during the run: give every product plenty (a write to the primary).
export function setup() {
  for (let id = 1; id <= PRODUCTS; id++) {
    const res = http.put(`${ORIGIN}/products/${id}/inventory`, JSON.stringify({ stock: 1000000 }), {
      headers: JSON_HEADERS,
      tags: { name: 'setup-inventory' },
    });
    if (res.status !== 200) fail(`restocking product ${id}: HTTP ${res.status} ${res.body}`);
  }
}

export default function shopper() {
  state.visits++;
  const customer = 100000 + exec.vu.idInTest;

  const catalog = get('/', 'catalog');
  check(catalog, {
    'catalog 200': (r) => r.status === 200,
    'catalog lists products': (r) => r.status === 200 && (r.json('products') || []).length > 0,
  });

  for (let i = 0; i < 2; i++) {
    const id = 1 + Math.floor(Math.random() * PRODUCTS);
    check(get(`/products/${id}`, 'product'), { 'product 200': (r) => r.status === 200 });
  }

  const productId = 1 + Math.floor(Math.random() * PRODUCTS);
  const added = post('/cart', { productId, quantity: 1, customer }, 'add-to-cart');
  if (check(added, { 'add to cart 200': (r) => r.status === 200 })) {
    state.cart[productId] = (state.cart[productId] || 0) + 1;
    cartIntact.add(sameCart(quantities(added.json()), state.cart), { name: 'add-to-cart' });
  }

  const cart = get('/cart', 'cart');
  if (check(cart, { 'cart 200': (r) => r.status === 200 })) {
    const ok = sameCart(quantities(cart.json()), state.cart);
    cartIntact.add(ok, { name: 'cart' });
    if (!ok)
      console.warn(`VU ${exec.vu.idInTest}: cart ${cart.body} != expected ${JSON.stringify(state.cart)}`);
  }

  if (state.visits % ORDER_EVERY === 0 && Object.keys(state.cart).length) {
    const order = post('/orders', {}, 'place-order');
    if (check(order, { 'order 201': (r) => r.status === 201 })) {
      orders.add(1);
      const items = {};
      for (const item of order.json('items') || []) items[item.productId] = item.quantity;
      check(order, { 'order holds exactly the cart': () => sameCart(items, state.cart) });
      state.cart = {};
      // Read it back from the shard's replica; right after the write a lagging replica may not have it yet.
      const back = get(`/orders/${order.json('id')}?customer=${customer}`, 'order', {
        responseCallback: http.expectedStatuses(200, 404),
      });
      check(back, {
        'order readable (200, or 404 while the replica lags)': (r) => [200, 404].includes(r.status),
      });
    }
  }

  podsSeen.add(Object.keys(state.pods).length);
  sleep((THINK_MS * (0.5 + Math.random())) / 1000);
}

export function teardown() {
  // Nothing to undo: carts expire with their sessions, orders stay (they are the point of a shop).
}
