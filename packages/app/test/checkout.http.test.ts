import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStripeStandIn } from '@shop/payments/testing';
import { eventually } from '@shop/platform/testing';
import { startTestApp, type TestApp } from './harness.ts';
import { startSmtpInbox, type SmtpInbox } from './smtp-inbox.ts';

type Stand = Awaited<ReturnType<typeof startStripeStandIn>>;

/**
 * The whole checkout over HTTP, in one process on a real PostgreSQL: reserve → pay → confirm,
 * with the email at a real SMTP server; declines; refunds on cancel; shipping commits stock.
 * Run once with the deterministic test provider and once with the Stripe SDK talking to a local
 * stand-in that speaks Stripe's protocol.
 */
describe.each(['test', 'stripe'] as const)('checkout with the %s payment provider', (provider) => {
  let t: TestApp;
  let inbox: SmtpInbox;
  let stripe: Stand | undefined;
  let seq = 0;

  beforeAll(async () => {
    inbox = await startSmtpInbox();
    stripe = provider === 'stripe' ? await startStripeStandIn() : undefined;
    t = await startTestApp({
      SMTP_URL: inbox.url,
      ...(stripe ? { PAYMENT_PROVIDER: 'stripe', STRIPE_SECRET_KEY: 'sk_test_standin', STRIPE_API_URL: stripe.url } : {}),
    });
  });
  afterAll(async () => {
    await t.stop();
    await inbox.close();
    await stripe?.close();
  });

  const sql = async (text: string, values: unknown[] = []) => (await t.app.database.pool.query(text, values)).rows;

  async function product(stock_quantity: number, price_cents = 1_250) {
    const res = await t.call('POST', '/api/products', {
      token: t.adminToken,
      body: { sku: `CHK-${provider}-${++seq}`, name: `Checkout mug ${seq}`, price_cents, stock_quantity },
    });
    expect(res.status).toBe(201);
    return res.body as { id: string; name: string };
  }

  /** A customer with an email address, and an order of theirs that inventory has reserved. */
  async function reservedOrder(quantity = 2, stock = 10) {
    const item = await product(stock);
    const customer = randomUUID();
    const token = await t.tokenFor(customer);
    const email = `buyer-${customer.slice(0, 8)}@example.test`;
    expect((await t.call('PUT', `/api/customers/${customer}/contact`, { token, body: { email } })).status).toBe(200);
    const res = await t.call('POST', '/api/orders', {
      token,
      body: { items: [{ product_id: item.id, quantity }], idempotency_key: randomUUID() },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const order = res.body as { id: string; total_cents: number };
    await eventually(async () => expect((await getProduct(item.id)).reserved_quantity).toBe(quantity));
    return { order, item, customer, token, email };
  }

  const getProduct = async (id: string) => (await t.call('GET', `/api/products/${id}`, { token: t.adminToken })).body;
  const getOrder = async (id: string) => (await t.call('GET', `/api/orders/${id}`, { token: t.adminToken })).body;
  const pay = (token: string, orderId: string, payment_method: string, key = randomUUID()) =>
    t.call('POST', '/api/payments', { token, body: { order_id: orderId, payment_method, idempotency_key: key } });
  const paymentsOf = async (orderId: string) => (await t.call('GET', `/api/payments?order_id=${orderId}`, { token: t.adminToken })).body as any[];
  const notificationsOf = async (customer: string, token: string) =>
    (await t.call('GET', `/api/customers/${customer}/notifications`, { token })).body as any[];
  const orderNumber = (id: string) => `#${id.slice(0, 8).toUpperCase()}`;

  it('pays with pm_card_visa: captured for the total, the order confirmed, an email at the SMTP server', async () => {
    const { order, customer, token, email, item } = await reservedOrder(2);
    const res = await pay(token, order.id, 'pm_card_visa');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ order_id: order.id, amount_cents: 2_500, status: 'captured', failure_reason: null });
    expect(res.body.provider_ref).toMatch(provider === 'stripe' ? /^pi_/ : /^pi_test_/);

    await eventually(async () => expect((await getOrder(order.id)).status).toBe('confirmed'));
    const mail = await eventually(() => {
      const found = inbox.to(email, orderNumber(order.id));
      expect(found).toHaveLength(1);
      return found[0]!;
    });
    expect(mail.raw).toMatch(new RegExp(`Subject: .*${orderNumber(order.id)}.*confirmed`, 'i'));
    expect(mail.raw).toContain(item.name);
    expect(mail.raw).toContain('$25.00');
    await eventually(async () =>
      expect(await notificationsOf(customer, token)).toEqual([expect.objectContaining({ channel: 'email', kind: 'order_confirmed', order_id: order.id, status: 'sent' })]),
    );
    if (stripe) expect(stripe.requests.filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents')).not.toHaveLength(0);
  });

  it('answers a retry with the same key with the same payment, and charges once', async () => {
    const { order, token } = await reservedOrder(1);
    const key = randomUUID();
    const first = await pay(token, order.id, 'pm_card_visa', key);
    const again = await pay(token, order.id, 'pm_card_visa', key);
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.body).toEqual(first.body);
    expect(await paymentsOf(order.id)).toHaveLength(1);
    const other = await pay(token, order.id, 'pm_card_mastercard', key);
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('idempotency_key_reused');
  });

  it('declines pm_card_chargeDeclined with 402, keeps the failed payment, and a later card still pays', async () => {
    const { order, token } = await reservedOrder(1);
    const declined = await pay(token, order.id, 'pm_card_chargeDeclined');
    expect(declined.status).toBe(402);
    expect(declined.headers.get('content-type')).toContain('application/problem+json');
    expect(declined.body).toMatchObject({ code: 'payment_declined', status: 402 });
    expect(await paymentsOf(order.id)).toEqual([expect.objectContaining({ status: 'failed', failure_reason: 'card_declined', amount_cents: 1_250 })]);
    expect((await getOrder(order.id)).status).toBe('pending');

    const short = await pay(token, order.id, 'pm_card_insufficientFunds');
    expect(short.status).toBe(402);
    expect((await paymentsOf(order.id)).map((p) => p.failure_reason).sort()).toEqual(['card_declined', 'insufficient_funds']);

    expect((await pay(token, order.id, 'pm_card_visa')).status).toBe(201);
    await eventually(async () => expect((await getOrder(order.id)).status).toBe('confirmed'));
  });

  it('refuses to pay twice, or to pay a cancelled order: 409 order_not_payable', async () => {
    const paid = await reservedOrder(1);
    expect((await pay(paid.token, paid.order.id, 'pm_card_visa')).status).toBe(201);
    const twice = await pay(paid.token, paid.order.id, 'pm_card_visa');
    expect([twice.status, twice.body.code]).toEqual([409, 'order_not_payable']);

    const dropped = await reservedOrder(1);
    expect((await t.call('POST', `/api/orders/${dropped.order.id}/cancel`, { token: dropped.token, body: {} })).status).toBe(200);
    const late = await pay(dropped.token, dropped.order.id, 'pm_card_visa');
    expect([late.status, late.body.code]).toEqual([409, 'order_not_payable']);
  });

  it("hides another customer's order and payments behind 404", async () => {
    const { order } = await reservedOrder(1);
    const stranger = await t.tokenFor(randomUUID());
    expect((await pay(stranger, order.id, 'pm_card_visa')).status).toBe(404);
    expect((await t.call('GET', `/api/payments?order_id=${order.id}`, { token: stranger })).status).toBe(404);
  });

  it('cancelling a confirmed order refunds it once and releases its stock, with one cancellation email', async () => {
    const { order, item, token, email } = await reservedOrder(3);
    const payment = (await pay(token, order.id, 'pm_card_visa')).body;
    await eventually(async () => expect((await getOrder(order.id)).status).toBe('confirmed'));

    const cancelled = await t.call('POST', `/api/orders/${order.id}/cancel`, { token, body: { reason: 'found it cheaper' } });
    expect(cancelled.status).toBe(200);
    await eventually(async () => {
      expect((await t.call('GET', `/api/payments/${payment.id}`, { token })).body.status).toBe('refunded');
      expect((await getProduct(item.id)).reserved_quantity).toBe(0);
      expect(inbox.to(email, 'cancelled')).toHaveLength(1);
    });
    expect(await sql(`SELECT count(*)::int AS n FROM payments.outbox WHERE event_type = 'PaymentRefunded' AND payload->>'order_id' = $1`, [order.id])).toEqual([{ n: 1 }]);
    if (stripe) expect(stripe.requests.filter((r) => r.path === '/v1/refunds' && r.body.includes(payment.provider_ref))).toHaveLength(1);
  });

  it('shipping a paid order commits its stock and emails the customer', async () => {
    const { order, item, token, email } = await reservedOrder(4, 10);
    expect((await pay(token, order.id, 'pm_card_visa')).status).toBe(201);
    await eventually(async () => expect((await getOrder(order.id)).status).toBe('confirmed'));
    expect((await t.call('POST', `/api/orders/${order.id}/ship`, { token: t.adminToken })).status).toBe(200);
    await eventually(async () => {
      expect(await getProduct(item.id)).toMatchObject({ stock_quantity: 6, reserved_quantity: 0 });
      expect(inbox.to(email, 'shipped')).toHaveLength(1);
    });
  });

  it('hands browsers the VAPID public key (made and kept under DATA_DIR in development)', async () => {
    const res = await t.call('GET', '/api/notifications/push-key', { token: await t.tokenFor(randomUUID()) });
    expect(res.status).toBe(200);
    expect(res.body.public_key).toMatch(/^[A-Za-z0-9_-]{87}$/);
  });

  it('cancels an order that cannot be reserved, and tells the customer', async () => {
    const item = await product(1);
    const customer = randomUUID();
    const token = await t.tokenFor(customer);
    const res = await t.call('POST', '/api/orders', { token, body: { items: [{ product_id: item.id, quantity: 2 }], idempotency_key: randomUUID() } });
    await eventually(async () => expect(await getOrder(res.body.id)).toMatchObject({ status: 'cancelled', cancel_reason: 'insufficient_stock' }));
    // No contact set: the notification is still recorded, as skipped.
    await eventually(async () =>
      expect(await notificationsOf(customer, token)).toEqual([expect.objectContaining({ kind: 'order_cancelled', status: 'skipped', order_id: res.body.id })]),
    );
  });
});
