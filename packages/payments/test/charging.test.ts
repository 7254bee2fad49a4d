import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PaymentCaptured, PaymentFailed } from '@shop/payments-contract';
import { moduleErrorOf, startPaymentsHarness, type PaymentsHarness } from './support/harness.ts';

describe.each(['test', 'stripe'] as const)('charging, with the %s provider', (kind) => {
  let h: PaymentsHarness;
  beforeAll(async () => {
    h = await startPaymentsHarness(kind);
  });
  afterAll(() => h?.stop());

  const pay = (order_id: string, payment_method = 'pm_card_visa', idempotency_key: string = randomUUID()) =>
    h.api.processPayment({ order_id, payment_method, idempotency_key });
  const rowsOf = (orderId: string) => h.kit.sql<{ status: string }>('SELECT status FROM payments.payments WHERE order_id = $1', [orderId]);

  it('captures the order total and publishes PaymentCaptured', async () => {
    const order = h.orders.add({ total_cents: 4_200 });
    const { result, payload } = await h.kit.scenario
      .stimulate(() => pay(order.id))
      .andWaitForEvent(PaymentCaptured, (event, { payment }) => event.payment_id === payment.id);
    expect(result.created).toBe(true);
    expect(result.payment).toMatchObject({ order_id: order.id, amount_cents: 4_200, status: 'captured', failure_reason: null });
    expect(payload).toEqual({ payment_id: result.payment.id, order_id: order.id, amount_cents: 4_200, provider_ref: result.payment.provider_ref });
    expect(await h.api.getPayment(result.payment.id)).toEqual(result.payment);
    expect(h.fixture.chargesForOrder(order.id)).toBe(1);
  });

  it('keeps a declined payment, throws payment_declined naming it, and publishes PaymentFailed', async () => {
    const order = h.orders.add();
    const key = randomUUID();
    const { result: error, payload } = await h.kit.scenario
      .stimulate(() => moduleErrorOf(pay(order.id, 'pm_card_chargeDeclined', key)))
      .andWaitForEvent(PaymentFailed, (event, error) => event.payment_id === error.extensions.payment_id);
    expect(error).toMatchObject({ code: 'payment_declined', status: 402, extensions: { failure_reason: 'card_declined' } });
    expect(payload).toMatchObject({ order_id: order.id, amount_cents: 2_500, failure_reason: 'card_declined' });
    expect(await h.api.listPaymentsForOrder(order.id)).toEqual([expect.objectContaining({ id: payload.payment_id, status: 'failed', failure_reason: 'card_declined' })]);

    // The same key again: the same decline, the same kept payment, nothing new.
    const again = await moduleErrorOf(pay(order.id, 'pm_card_chargeDeclined', key));
    expect(again).toMatchObject({ code: 'payment_declined', extensions: { payment_id: payload.payment_id } });
    expect(await rowsOf(order.id)).toHaveLength(1);

    // A failed attempt does not block the order: another card pays.
    expect((await pay(order.id, 'pm_card_visa')).payment.status).toBe('captured');
  });

  it.each([
    ['pm_card_insufficientFunds', 'insufficient_funds'],
    ['pm_card_chargeDeclinedExpiredCard', 'expired_card'],
    ['pm_card_notAThing', 'invalid_payment_method'],
  ])('records why %s was declined: %s', async (method, reason) => {
    const order = h.orders.add();
    expect(await moduleErrorOf(pay(order.id, method))).toMatchObject({ code: 'payment_declined', extensions: { failure_reason: reason } });
    expect(await h.api.listPaymentsForOrder(order.id)).toEqual([expect.objectContaining({ status: 'failed', failure_reason: reason })]);
  });

  it('replays the same key: the same payment, created false, one charge', async () => {
    const order = h.orders.add();
    const key = randomUUID();
    const first = await pay(order.id, 'pm_card_visa', key);
    const second = await pay(order.id, 'pm_card_visa', key);
    expect(first.created).toBe(true);
    expect(second).toEqual({ payment: first.payment, created: false });
    expect(await rowsOf(order.id)).toHaveLength(1);
    expect(h.fixture.chargesForOrder(order.id)).toBe(1);
  });

  it('refuses the same key with another payload: idempotency_key_reused', async () => {
    const customer = randomUUID();
    const order = h.orders.add({ customer_id: customer });
    const other = h.orders.add({ customer_id: customer });
    const key = randomUUID();
    await pay(order.id, 'pm_card_visa', key);
    expect(await moduleErrorOf(pay(order.id, 'pm_card_mastercard', key))).toMatchObject({ code: 'idempotency_key_reused', status: 422 });
    expect(await moduleErrorOf(pay(other.id, 'pm_card_visa', key))).toMatchObject({ code: 'idempotency_key_reused' });
    expect(await rowsOf(other.id)).toHaveLength(0);
  });

  it('makes one payment and one charge from 20 racing calls with the same key', async () => {
    const order = h.orders.add();
    const key = randomUUID();
    const results = await Promise.all(Array.from({ length: 20 }, () => pay(order.id, 'pm_card_visa', key)));
    expect(new Set(results.map((result) => result.payment.id)).size).toBe(1);
    expect(results.filter((result) => result.created)).toHaveLength(1);
    expect(results.every((result) => result.payment.status === 'captured')).toBe(true);
    expect(await rowsOf(order.id)).toHaveLength(1);
    expect(h.fixture.chargesFor(`payment:${results[0]!.payment.id}`)).toBe(1);
    expect(h.fixture.chargesForOrder(order.id)).toBe(1);
  });

  it('lets one of 20 racing calls with different keys pay; the others get order_not_payable', async () => {
    const order = h.orders.add();
    const settled = await Promise.allSettled(Array.from({ length: 20 }, () => pay(order.id)));
    const paid = settled.filter((outcome) => outcome.status === 'fulfilled');
    const refused = settled.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    expect(paid).toHaveLength(1);
    expect(refused.map((outcome) => (outcome.reason as { code?: string }).code)).toEqual(Array(19).fill('order_not_payable'));
    expect(await rowsOf(order.id)).toEqual([{ status: 'captured' }]);
    expect(h.fixture.chargesForOrder(order.id)).toBe(1);
  });

  it('refuses an order that is not pending, or already paid: order_not_payable, and takes no money', async () => {
    for (const status of ['confirmed', 'cancelled', 'shipped'] as const) {
      const order = h.orders.add({ status });
      expect(await moduleErrorOf(pay(order.id))).toMatchObject({ code: 'order_not_payable', status: 409, extensions: { current_status: status } });
      expect(await rowsOf(order.id)).toHaveLength(0);
    }
    const paid = h.orders.add();
    await pay(paid.id);
    expect(await moduleErrorOf(pay(paid.id))).toMatchObject({ code: 'order_not_payable' });
    expect(h.fixture.chargesForOrder(paid.id)).toBe(1);
  });

  it('answers order_not_found for an order orders does not know, and payment_not_found for an unknown payment', async () => {
    expect(await moduleErrorOf(pay(randomUUID()))).toMatchObject({ code: 'order_not_found' });
    expect(await moduleErrorOf(h.api.getPayment(randomUUID()))).toMatchObject({ code: 'payment_not_found', status: 404 });
  });

  it('keeps the payment pending when the provider is unreachable, and a retry with the same key settles it', async () => {
    const order = h.orders.add();
    const key = randomUUID();
    h.provider.outage(1);
    const error = await moduleErrorOf(pay(order.id, 'pm_card_visa', key));
    expect(error).toMatchObject({ code: 'payment_provider_unavailable', status: 503, extensions: { payment_id: expect.any(String) } });
    expect(await h.api.getPayment(error.extensions.payment_id as string)).toMatchObject({ status: 'pending', provider_ref: null });
    // While it is pending, nobody else can start paying the order.
    expect(await moduleErrorOf(pay(order.id))).toMatchObject({ code: 'order_not_payable' });

    const retried = await pay(order.id, 'pm_card_visa', key);
    expect(retried).toMatchObject({ created: false, payment: { id: error.extensions.payment_id, status: 'captured' } });
    expect(h.fixture.chargesForOrder(order.id)).toBe(1);
  });

  if (kind === 'stripe') it('settles a charge whose answer Stripe lost, charging once (the client retries with the same key)', async () => {
    const order = h.orders.add();
    h.fixture.standIn!.failNext(1, 'lose-response');
    expect((await pay(order.id)).payment.status).toBe('captured');
    expect(h.fixture.chargesForOrder(order.id)).toBe(1);
  });
});
