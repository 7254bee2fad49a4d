import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderCancelled, type Order } from '@shop/orders-contract';
import { PaymentCaptured, PaymentRefunded } from '@shop/payments-contract';
import { eventually } from '@shop/platform/testing';
import { startPaymentsHarness, type PaymentsHarness } from './support/harness.ts';

describe.each(['test', 'stripe'] as const)('refunds on cancellation, with the %s provider', (kind) => {
  let h: PaymentsHarness;
  beforeAll(async () => {
    h = await startPaymentsHarness(kind);
  });
  afterAll(() => h?.stop());

  const cancelled = (order: Order) => ({
    order_id: order.id,
    customer_id: order.customer_id,
    reason: 'cancelled_by_customer',
    previous_status: 'confirmed' as const,
    items: order.items,
    total_cents: order.total_cents,
  });
  const paidOrder = async () => {
    const order = h.orders.add({ total_cents: 3_100 });
    const { payment } = await h.api.processPayment({ order_id: order.id, payment_method: 'pm_card_visa', idempotency_key: randomUUID() });
    return { order, payment };
  };
  const refundsPublished = (paymentId: string) => h.kit.scenario.eventsOf(PaymentRefunded, (event) => event.payment_id === paymentId);

  it('refunds a captured payment once when its order is cancelled; a redelivered OrderCancelled changes nothing', async () => {
    const { order, payment } = await paidOrder();
    const { result: event, payload } = await h.kit.scenario
      .publish(OrderCancelled, cancelled(order))
      .andWaitForEvent(PaymentRefunded, (event) => event.payment_id === payment.id);
    expect(payload).toEqual({ payment_id: payment.id, order_id: order.id, amount_cents: 3_100, refund_ref: expect.stringMatching(/^re_/) });
    expect(await h.api.getPayment(payment.id)).toMatchObject({ status: 'refunded', provider_ref: payment.provider_ref });

    await h.kit.scenario.stimulate(() => h.kit.scenario.redeliver(event)).andExpectNoEvent(PaymentRefunded, (event) => event.payment_id === payment.id);
    expect(refundsPublished(payment.id)).toHaveLength(1);
    expect(h.fixture.refundsOf(payment.provider_ref!)).toBe(1);
  });

  it('refunds nothing for an order whose payments failed', async () => {
    const order = h.orders.add();
    await h.api.processPayment({ order_id: order.id, payment_method: 'pm_card_chargeDeclined', idempotency_key: randomUUID() }).catch(() => undefined);
    await h.kit.scenario.publish(OrderCancelled, cancelled(order)).andExpectNoEvent(PaymentRefunded, (event) => event.order_id === order.id);
    expect(await h.api.listPaymentsForOrder(order.id)).toEqual([expect.objectContaining({ status: 'failed' })]);
  });

  it('refunds a capture that settles after the order was cancelled', async () => {
    const order = h.orders.add();
    const hold = h.provider.holdNextCharge();
    const paying = h.api.processPayment({ order_id: order.id, payment_method: 'pm_card_visa', idempotency_key: randomUUID() });
    await hold.reached; // the money has moved; the answer is on its way
    await h.kit.scenario.publish(OrderCancelled, cancelled(order)).andExpectNoEvent(PaymentRefunded, (event) => event.order_id === order.id, 50);

    const { result, payload } = await h.kit.scenario
      .stimulate(async () => {
        hold.release();
        return paying;
      })
      .andWaitForEvent(PaymentRefunded, (event) => event.order_id === order.id);
    expect(result.payment).toMatchObject({ status: 'refunded' });
    expect(payload.payment_id).toBe(result.payment.id);
    expect(h.kit.scenario.eventsOf(PaymentCaptured, (event) => event.order_id === order.id)).toHaveLength(1);
    expect(h.fixture.refundsOf(result.payment.provider_ref!)).toBe(1);
  });

  it('takes no money for an order whose cancellation it has already seen', async () => {
    const order = h.orders.add();
    await h.kit.scenario.publish(OrderCancelled, cancelled(order)).andExpectNoEvent(PaymentRefunded, () => false, 0);
    // orders' answer is a moment old and still says pending; payments knows better.
    await expect(h.api.processPayment({ order_id: order.id, payment_method: 'pm_card_visa', idempotency_key: randomUUID() })).rejects.toMatchObject({
      code: 'order_not_payable',
    });
    expect(h.fixture.chargesForOrder(order.id)).toBe(0);
  });

  it('refunds exactly once when the cancellation races the capture, many times over', async () => {
    const orders = Array.from({ length: 10 }, () => h.orders.add());
    await Promise.all(
      orders.map((order) =>
        Promise.all([
          h.api.processPayment({ order_id: order.id, payment_method: 'pm_card_visa', idempotency_key: randomUUID() }).catch(() => undefined),
          h.kit.scenario.publish(OrderCancelled, cancelled(order)).andExpectNoEvent(PaymentRefunded, () => false, 0),
        ]),
      ),
    );
    for (const order of orders) {
      await eventually(async () => {
        const payments = await h.api.listPaymentsForOrder(order.id);
        // Either it was refused (cancel seen first) or it was captured and then refunded.
        expect(payments.every((payment) => payment.status === 'refunded')).toBe(true);
        for (const payment of payments) expect(h.fixture.refundsOf(payment.provider_ref!)).toBe(1);
      });
    }
  });
});
