import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OrderCancelled } from '@shop/orders-contract';
import { PaymentCaptured, PaymentRefunded } from '@shop/payments-contract';
import { eventually } from '@shop/platform/testing';
import { startPaymentsHarness, type PaymentsHarness } from './support/harness.ts';

/** A crash between the provider acting and the module recording it is finished after a restart. */
describe.each(['test', 'stripe'] as const)('the reconciler, with the %s provider', (kind) => {
  let h: PaymentsHarness;
  beforeAll(async () => {
    h = await startPaymentsHarness(kind);
  });
  afterEach(() => h.stopRestarted());
  afterAll(() => h?.stop());

  const statusOf = async (id: string) => (await h.kit.sql<{ status: string }>('SELECT status FROM payments.payments WHERE id = $1', [id]))[0]?.status;

  it('settles a charge the provider made just before a crash, without charging again', async () => {
    const order = h.orders.add({ total_cents: 5_000 });
    h.provider.crashAfterNextCharge();
    await expect(h.api.processPayment({ order_id: order.id, payment_method: 'pm_card_visa', idempotency_key: randomUUID() })).rejects.toThrow('simulated crash');
    const [row] = await h.kit.sql<{ id: string; status: string }>('SELECT id, status FROM payments.payments WHERE order_id = $1', [order.id]);
    expect(row?.status).toBe('pending');
    expect(h.fixture.chargesForOrder(order.id)).toBe(1);

    const { payload } = await h.kit.scenario.stimulate(() => h.restart()).andWaitForEvent(PaymentCaptured, (event) => event.payment_id === row!.id);
    expect(payload).toMatchObject({ order_id: order.id, amount_cents: 5_000 });
    expect(await statusOf(row!.id)).toBe('captured');
    expect(h.fixture.chargesForOrder(order.id)).toBe(1);
    expect(h.kit.scenario.eventsOf(PaymentCaptured, (event) => event.payment_id === row!.id)).toHaveLength(1);
  });

  it('charges a payment left pending before the provider was ever asked', async () => {
    const order = h.orders.add({ total_cents: 1_500 });
    const id = randomUUID();
    await h.kit.sql(
      `INSERT INTO payments.payments (id, order_id, customer_id, amount_cents, payment_method, status, idempotency_key, request_hash, updated_at)
       VALUES ($1, $2, $3, 1500, 'pm_card_visa', 'pending', $4, 'h', now() - interval '1 minute')`,
      [id, order.id, order.customer_id, randomUUID()],
    );
    // The running instance's reconciler leaves young rows alone; a restarted one finds this old one.
    await h.kit.scenario.stimulate(() => h.restart({ reconcileAfterMs: 30_000 })).andWaitForEvent(PaymentCaptured, (event) => event.payment_id === id);
    expect(await statusOf(id)).toBe('captured');
    expect(h.fixture.chargesForOrder(order.id)).toBe(1);
  });

  it('leaves charges older than the idempotency window to an operator, and they never starve newer work', async () => {
    const insert = (orderId: string, customerId: string, age: string) =>
      h.kit.sql(
        `INSERT INTO payments.payments (id, order_id, customer_id, amount_cents, payment_method, status, idempotency_key, request_hash, created_at, updated_at)
         VALUES ($1, $2, $3, 1500, 'pm_card_visa', 'pending', $4, 'h', now() - $5::interval, now() - $5::interval)`,
        [randomUUID(), orderId, customerId, randomUUID(), age],
      );
    // More stranded rows than one reconciler round takes (100), all older than the fresh one.
    const stranded = Array.from({ length: 101 }, () => h.orders.add({ total_cents: 1_500 }));
    for (const order of stranded) await insert(order.id, order.customer_id, '25 hours');
    const fresh = h.orders.add({ total_cents: 1_500 });
    await insert(fresh.id, fresh.customer_id, '1 minute');

    await h.kit.scenario.stimulate(() => h.restart({ reconcileAfterMs: 30_000 })).andWaitForEvent(PaymentCaptured, (event) => event.order_id === fresh.id);
    expect(h.fixture.chargesForOrder(fresh.id)).toBe(1);
    // Asking the provider again after its key expired could charge twice: nothing is sent for them.
    expect(stranded.map((order) => h.fixture.chargesForOrder(order.id)).reduce((a, b) => a + b, 0)).toBe(0);
    const pending = await h.kit.sql<{ n: number }>(`SELECT count(*)::int AS n FROM payments.payments WHERE status = 'pending'`);
    expect(pending[0]!.n).toBeGreaterThanOrEqual(101);
  });

  it('finishes a refund the provider made just before a crash, refunding once', async () => {
    const order = h.orders.add();
    const { payment } = await h.api.processPayment({ order_id: order.id, payment_method: 'pm_card_visa', idempotency_key: randomUUID() });
    h.provider.crashAfterNextRefund();
    await h.kit.scenario
      .publish(OrderCancelled, { order_id: order.id, customer_id: order.customer_id, reason: 'x', previous_status: 'confirmed', items: order.items, total_cents: order.total_cents })
      .andExpectNoEvent(PaymentRefunded, (event) => event.payment_id === payment.id, 200);
    expect(await statusOf(payment.id)).toBe('captured');
    expect(h.fixture.refundsOf(payment.provider_ref!)).toBe(1);

    await h.kit.scenario.stimulate(() => h.restart()).andWaitForEvent(PaymentRefunded, (event) => event.payment_id === payment.id);
    expect(await statusOf(payment.id)).toBe('refunded');
    expect(h.fixture.refundsOf(payment.provider_ref!)).toBe(1);
    expect(h.kit.scenario.eventsOf(PaymentRefunded, (event) => event.payment_id === payment.id)).toHaveLength(1);
  });

  it('keeps trying through an outage, and stops when told', async () => {
    const order = h.orders.add();
    h.provider.outage(1);
    await expect(h.api.processPayment({ order_id: order.id, payment_method: 'pm_card_visa', idempotency_key: randomUUID() })).rejects.toMatchObject({
      code: 'payment_provider_unavailable',
    });
    const [row] = await h.kit.sql<{ id: string }>('SELECT id FROM payments.payments WHERE order_id = $1', [order.id]);
    // This instance goes through the controlled provider: its first round meets the outage too.
    h.provider.outage(1);
    const instance = await h.restart({ provider: h.provider });
    await eventually(async () => expect(await statusOf(row!.id)).toBe('captured'));
    await instance.stop();
    await instance.stop(); // stopping twice is harmless
    expect(h.fixture.chargesForOrder(order.id)).toBe(1);
  });
});
