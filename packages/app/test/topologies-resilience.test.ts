import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStripeStandIn, type StripeStandIn } from '@shop/payments/testing';
import { eventually, startNatsForTests } from '@shop/platform/testing';
import { MODULE_NAMES } from '../src/topology-config.ts';
import { call, type CallResult } from './http-call.ts';
import { LAYOUTS, startTopology, type Layout, type RunningTopology } from './topology.ts';
import { metric } from './metrics-text.ts';

/**
 * What moving a module out of the process must survive, with real processes: the other process
 * dying and coming back (fail fast, recover, lose no event), a dark launch of a copy (shadow
 * reads compared, users only ever see the local answer), and the traffic switch at run time.
 * Same setup as topologies.test.ts: NATS required, skipped loudly without it.
 */
const nats = await startNatsForTests();
afterAll(() => nats?.stop());

const SKIPPED = 'SKIPPED: no NATS (set NATS_URL, or put nats-server on PATH)';
const ASYNC_MS = 30_000;


/** A product, a customer with an email, and their order, reserved: through `url` only. */
async function placeOrder(t: RunningTopology, url: string, readFrom = url) {
  const admin = t.adminToken;
  const product = await call(url, 'POST', '/api/products', { token: admin, body: { sku: `RES-${randomUUID().slice(0, 12)}`, name: 'Resilience mug', price_cents: 900, stock_quantity: 10 } });
  expect(product.status, JSON.stringify(product.body)).toBe(201);
  const customer = randomUUID();
  const token = await t.tokenFor(customer);
  const email = `res-${customer.slice(0, 8)}@example.test`;
  expect((await call(url, 'PUT', `/api/customers/${customer}/contact`, { token, body: { email } })).status).toBe(200);
  const order = await call(url, 'POST', '/api/orders', { token, body: { items: [{ product_id: product.body.id, quantity: 1 }], idempotency_key: randomUUID() } });
  expect(order.status, JSON.stringify(order.body)).toBe(201);
  await eventually(async () => expect((await call(readFrom, 'GET', `/api/products/${product.body.id}`, { token: admin })).body.reserved_quantity).toBe(1), ASYNC_MS, 50);
  return { productId: product.body.id as string, orderId: order.body.id as string, customer, token, email };
}

function expectUnavailable(res: CallResult) {
  expect(res.status, JSON.stringify(res.body)).toBe(503);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body).toMatchObject({ code: 'module_unavailable', status: 503 });
}

describe.skipIf(!nats)(nats ? 'topologies under stress' : `topologies under stress — ${SKIPPED}`, () => {
  describe('fail fast and recover: orders alone + main, the orders process dies and comes back', () => {
    let t: RunningTopology | undefined;
    let stripe: StripeStandIn | undefined;

    beforeAll(async () => {
      // A slow card network: each charge answers after 1.5 s, so the order's process can die
      // while its payment is being captured, and PaymentCaptured is published while it is down.
      stripe = await startStripeStandIn({ responseDelayMs: 1_500 });
      const layout: Layout = {
        name: 'orders alone + main (Stripe stand-in)',
        processes: LAYOUTS.ordersAlone.processes.map((spec) =>
          spec.name === 'main' ? { ...spec, env: () => ({ PAYMENT_PROVIDER: 'stripe', STRIPE_SECRET_KEY: 'sk_test_standin', STRIPE_API_URL: stripe!.url }) } : spec,
        ),
      };
      t = await startTopology(layout, { nats: nats! });
    });
    afterAll(async () => {
      await t?.close();
      await stripe?.close();
    });

    it('answers 503 module_unavailable, fast once the circuit is open; recovers by itself after a restart; loses no event', async () => {
      const main = t!.url('main');
      const { orderId, token, email, productId } = await placeOrder(t!, main);

      // Pay; while the charge is at the card network (orders already answered getOrder), kill orders.
      const paying = call(main, 'POST', '/api/payments', { token, body: { order_id: orderId, payment_method: 'pm_card_visa', idempotency_key: randomUUID() } });
      await eventually(() => expect(stripe!.heldAnswers).toBe(1), 10_000);
      const killed = await t!.stop('orders', 'SIGKILL');
      expect(killed.signal).toBe('SIGKILL');
      const paid = await paying;
      expect(paid.status, JSON.stringify(paid.body)).toBe(201);
      expect(paid.body.status).toBe('captured');
      // PaymentCaptured is now in NATS, and the only process that can confirm the order is down.

      // Reads through main fail with a problem, never hang; after repeated failures the circuit opens.
      expectUnavailable(await call(main, 'GET', `/api/orders/${orderId}`, { token }));
      const open = await eventually(async () => {
        const res = await call(main, 'GET', `/api/orders/${orderId}`, { token });
        expectUnavailable(res);
        expect(res.body.detail).toContain('circuit is open');
        return res;
      }, 15_000, 20);
      expect(open.body.module).toBe('orders');
      // Writes too: creating an order answers at once, and creates nothing.
      const started = Date.now();
      const create = await call(main, 'POST', '/api/orders', { token, body: { items: [{ product_id: productId, quantity: 1 }], idempotency_key: randomUUID() } });
      const failFastMs = Date.now() - started;
      expectUnavailable(create);
      expect(create.body.detail).toContain('circuit is open');
      console.info(`[fail fast] POST /api/orders with the circuit open answered 503 in ${failFastMs} ms`);
      // Everything else main hosts still serves.
      expect((await call(main, 'GET', `/api/products/${productId}`, { token: t!.adminToken })).status).toBe(200);

      // The same process, the same port: calls recover by themselves, and the order is confirmed.
      await t!.restart('orders');
      const recovered = await eventually(async () => {
        const res = await call(main, 'GET', `/api/orders/${orderId}`, { token });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.body.status).toBe('confirmed');
        return res;
      }, ASYNC_MS, 100);
      expect(recovered.body.id).toBe(orderId);
      const again = await call(main, 'POST', '/api/orders', { token, body: { items: [{ product_id: productId, quantity: 1 }], idempotency_key: randomUUID() } });
      expect(again.status, JSON.stringify(again.body)).toBe(201);
      // OrderConfirmed went on to notifications (in main): the customer got the email, once.
      await eventually(() => expect(t!.inbox.to(email, `#${orderId.slice(0, 8).toUpperCase()}`)).toHaveLength(1), ASYNC_MS, 50);
      const circuit = t!.processes.get('main')!.server.logs().filter((entry) => entry.msg === 'circuit to orders changed').map((entry) => entry.circuit);
      // And main's log tells the operator: the circuit opened, probed, closed.
      // (A probe during the restart may fail and open it again: open, half-open, open, ...)
      expect([circuit[0], circuit.at(-1)]).toEqual(['open', 'closed']);
      expect(circuit).toContain('half-open');
    });
  });

  describe('dark launch: main hosts everything and shadows orders reads to a copy', () => {
    let matching: RunningTopology | undefined;
    let diverging: RunningTopology | undefined;

    beforeAll(async () => {
      const shadowed = (name: string, copy: { isolated: boolean }): Layout => ({
        name,
        processes: [
          { name: 'main', modules: MODULE_NAMES, env: (url) => ({ ORDERS_SHADOW_URL: url('copy') }) },
          { name: 'copy', modules: ['orders'], isolated: copy.isolated },
        ],
      });
      [matching, diverging] = await Promise.all([
        // The copy on the same database and NATS, as docs/extracting-a-module.md runs it.
        startTopology(shadowed('dark launch, a faithful copy', { isolated: false }), { nats: nats! }),
        // A copy with a database of its own: the orders main knows, it has never seen.
        startTopology(shadowed('dark launch, a diverging copy', { isolated: true }), { nats: nats! }),
      ]);
    });
    afterAll(() => Promise.all([matching?.close(), diverging?.close()]));

    it('a faithful copy: reads match, no mismatch', async () => {
      const t = matching!;
      const main = t.url('main');
      const copy = t.url('copy');
      // Wait for state changes at the copy (not shadowed), so main's shadowed reads see settled data.
      const { orderId, customer, token } = await placeOrder(t, main);
      expect((await call(main, 'POST', '/api/payments', { token, body: { order_id: orderId, payment_method: 'pm_card_visa', idempotency_key: randomUUID() } })).status).toBe(201);
      await eventually(async () => expect((await call(copy, 'GET', `/api/orders/${orderId}`, { token })).body.status).toBe('confirmed'), ASYNC_MS, 50);
      // Reads shadowed while the saga was still changing the order may differ, legitimately (the
      // copy read a moment later). What must hold: reads of settled data always match.
      const settled = await t.metrics('main');
      const mismatchesBefore = metric(settled, 'module_shadow_mismatches_total', { module: 'orders' });
      const matchesBefore = metric(settled, 'module_shadow_calls_total', { module: 'orders', method: 'getOrder', outcome: 'match' });

      for (let i = 0; i < 10; i += 1) {
        const one = await call(main, 'GET', `/api/orders/${orderId}`, { token });
        expect([one.status, one.body.status]).toEqual([200, 'confirmed']);
        const list = await call(main, 'GET', `/api/customers/${customer}/orders`, { token });
        expect(list.status).toBe(200);
        expect(list.body.map((order: { id: string }) => order.id)).toEqual([orderId]);
      }
      const missing = await call(main, 'GET', `/api/orders/${randomUUID()}`, { token: t.adminToken });
      expect(missing.body.code).toBe('order_not_found');

      const metrics = await eventually(async () => {
        const text = await t.metrics('main');
        expect(metric(text, 'module_shadow_calls_total', { module: 'orders', method: 'getOrder', outcome: 'match' })).toBeGreaterThanOrEqual(matchesBefore + 11);
        expect(metric(text, 'module_shadow_calls_total', { module: 'orders', method: 'listOrdersForCustomer', outcome: 'match' })).toBeGreaterThanOrEqual(10);
        return text;
      }, ASYNC_MS, 50);
      expect(metric(metrics, 'module_shadow_mismatches_total', { module: 'orders' })).toBe(mismatchesBefore);
      expect(metric(metrics, 'module_shadow_calls_total', { module: 'orders', outcome: 'mismatch' })).toBe(mismatchesBefore);
      expect(metric(metrics, 'module_shadow_calls_total', { module: 'orders', outcome: 'shadow_error' })).toBe(0);
      // Writes are never shadowed: the copy served internal reads only.
      expect(metric(metrics, 'module_shadow_calls_total', { module: 'orders', method: 'createOrder' })).toBe(0);
    });

    it('a diverging copy: mismatches are counted and logged, and the user still gets the local answer', async () => {
      const t = diverging!;
      const main = t.url('main');
      const { orderId, token } = await placeOrder(t, main);
      for (let i = 0; i < 5; i += 1) {
        const res = await call(main, 'GET', `/api/orders/${orderId}`, { token });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.body).toMatchObject({ id: orderId, status: 'pending' });
      }
      const text = await eventually(async () => {
        const scraped = await t.metrics('main');
        expect(metric(scraped, 'module_shadow_mismatches_total', { module: 'orders', method: 'getOrder' })).toBeGreaterThanOrEqual(5);
        return scraped;
      }, ASYNC_MS, 50);
      expect(metric(text, 'module_shadow_calls_total', { module: 'orders', method: 'getOrder', outcome: 'mismatch' })).toBeGreaterThanOrEqual(5);
      // The copy answered (order_not_found): a verdict, not a shadow error.
      expect(metric(text, 'module_shadow_calls_total', { module: 'orders', method: 'getOrder', outcome: 'shadow_error' })).toBe(0);
      const warnings = t.processes.get('main')!.server.logs().filter((entry) => entry.msg === 'shadow answer differs from local');
      expect(warnings.length).toBeGreaterThanOrEqual(5);
      expect(JSON.stringify(warnings[0])).toContain('order_not_found');
    });
  });

  describe('traffic switch: main hosts everything, ORDERS_URL → a copy, the share changed at run time', () => {
    let t: RunningTopology | undefined;

    beforeAll(async () => {
      t = await startTopology(
        {
          name: 'traffic switch',
          processes: [
            { name: 'main', modules: MODULE_NAMES, env: (url) => ({ ORDERS_URL: url('copy'), ORDERS_REMOTE_PERCENT: '0' }) },
            { name: 'copy', modules: ['orders'] },
          ],
        },
        { nats: nats! },
      );
    });
    afterAll(() => t?.close());

    it('PUT /api/admin/topology/orders/remote-percent moves order calls to the copy and back, without a restart', async () => {
      const main = t!.url('main');
      const admin = t!.adminToken;
      const { orderId, token, productId } = await placeOrder(t!, main);
      const sides = async () => {
        const text = await t!.metrics('main');
        return {
          local: metric(text, 'module_calls_by_side_total', { module: 'orders', method: 'getOrder', side: 'local' }),
          remote: metric(text, 'module_calls_by_side_total', { module: 'orders', method: 'getOrder', side: 'remote' }),
        };
      };
      const percentOf = async () =>
        ((await call(main, 'GET', '/api/admin/topology', { token: admin })).body.modules as Array<{ module: string; remote_percent: number | null }>).find((p) => p.module === 'orders')!
          .remote_percent;
      const readOrder = async (times: number) => {
        for (let i = 0; i < times; i += 1) {
          const res = await call(main, 'GET', `/api/orders/${orderId}`, { token });
          expect([res.status, res.body.id]).toEqual([200, orderId]);
        }
      };

      expect(await percentOf()).toBe(0);
      let before = await sides();
      await readOrder(5);
      expect(await sides()).toEqual({ local: before.local + 5, remote: before.remote });

      const up = await call(main, 'PUT', '/api/admin/topology/orders/remote-percent', { token: admin, body: { percent: 100 } });
      expect(up.status, JSON.stringify(up.body)).toBe(200);
      expect(up.body).toMatchObject({ module: 'orders', remote_percent: 100 });
      expect(up.body.hosted_by).toHaveLength(2); // main and the copy
      expect(await percentOf()).toBe(100);
      before = await sides();
      await readOrder(5);
      expect(await sides()).toEqual({ local: before.local, remote: before.remote + 5 });
      // Writes follow the switch too, and the order goes through at the copy.
      const placed = await call(main, 'POST', '/api/orders', { token, body: { items: [{ product_id: productId, quantity: 1 }], idempotency_key: randomUUID() } });
      expect(placed.status, JSON.stringify(placed.body)).toBe(201);
      expect(metric(await t!.metrics('main'), 'module_calls_by_side_total', { module: 'orders', method: 'createOrder', side: 'remote' })).toBe(1);

      const down = await call(main, 'PUT', '/api/admin/topology/orders/remote-percent', { token: admin, body: { percent: 0 } });
      expect([down.status, down.body.remote_percent]).toEqual([200, 0]);
      expect(await percentOf()).toBe(0);
      before = await sides();
      await readOrder(5);
      expect(await sides()).toEqual({ local: before.local + 5, remote: before.remote });

      // Only a module with a remote copy here can be switched.
      const none = await call(main, 'PUT', '/api/admin/topology/payments/remote-percent', { token: admin, body: { percent: 50 } });
      expect(none.status).toBe(404);
      const customer = await call(main, 'PUT', '/api/admin/topology/orders/remote-percent', { token, body: { percent: 100 } });
      expect(customer.status).toBe(403);
    });
  });
});
