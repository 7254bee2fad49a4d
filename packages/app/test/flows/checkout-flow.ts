import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { eventually } from '@shop/platform/testing';
import { call, type CallOptions, type CallResult } from '../http-call.ts';
import type { SmtpInbox } from '../smtp-inbox.ts';

/** What the flow needs of a deployment: where its public API answers, tokens, and the mail it sent. */
export interface FlowTarget {
  /** Every process serving the public API; each request goes to the next one, round-robin. */
  readonly urls: readonly string[];
  readonly adminToken: string;
  tokenFor(customerId: string, roles?: string[]): Promise<string>;
  readonly inbox: SmtpInbox;
}

/** Asynchronous steps cross processes over NATS: generous, and still quick when all is well. */
const ASYNC_MS = 30_000;

/**
 * The checkout, over HTTP only: no database, no module objects, nothing that knows how the
 * deployment is laid out. Written once, run unchanged against every topology. Requests are
 * spread round-robin over every process, so which process answers must not matter.
 */
export function checkoutFlowSuite(target: () => FlowTarget): void {
  let turn = 0;
  let seq = 0;
  const send = (method: string, path: string, options?: CallOptions): Promise<CallResult> => {
    const { urls } = target();
    return call(urls[turn++ % urls.length]!, method, path, options);
  };
  const admin = () => target().adminToken;
  const run = randomUUID().slice(0, 8);

  async function product(stock_quantity: number, price_cents = 1_250) {
    seq += 1;
    const res = await send('POST', '/api/products', { token: admin(), body: { sku: `FLOW-${run}-${seq}`, name: `Flow mug ${run}-${seq}`, price_cents, stock_quantity } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { id: string; name: string };
  }

  async function customer(withEmail = true) {
    const id = randomUUID();
    const token = await target().tokenFor(id);
    const email = `flow-${id.slice(0, 8)}@example.test`;
    if (withEmail) {
      const res = await send('PUT', `/api/customers/${id}/contact`, { token, body: { email } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    return { id, token, email };
  }

  const getProduct = async (id: string) => (await send('GET', `/api/products/${id}`, { token: admin() })).body;
  const getOrder = async (id: string) => {
    const res = await send('GET', `/api/orders/${id}`, { token: admin() });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };
  const pay = (token: string, orderId: string, payment_method: string) =>
    send('POST', '/api/payments', { token, body: { order_id: orderId, payment_method, idempotency_key: randomUUID() } });
  const paymentsOf = async (orderId: string) => (await send('GET', `/api/payments?order_id=${orderId}`, { token: admin() })).body as any[];
  const orderNumber = (id: string) => `#${id.slice(0, 8).toUpperCase()}`;
  const mailTo = (email: string, needle: string) => target().inbox.to(email, needle);

  /** A customer with an email address, and an order of theirs that inventory has reserved. */
  async function reservedOrder(quantity = 2, stock = 10) {
    const item = await product(stock);
    const buyer = await customer();
    const res = await send('POST', '/api/orders', { token: buyer.token, body: { items: [{ product_id: item.id, quantity }], idempotency_key: randomUUID() } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const order = res.body as { id: string; status: string; total_cents: number };
    expect(order).toMatchObject({ status: 'pending', total_cents: quantity * 1_250 });
    await eventually(async () => expect((await getProduct(item.id)).reserved_quantity).toBe(quantity), ASYNC_MS, 50);
    return { order, item, buyer };
  }

  async function paidOrder(quantity: number, stock = 10) {
    const placed = await reservedOrder(quantity, stock);
    const paid = await pay(placed.buyer.token, placed.order.id, 'pm_card_visa');
    expect(paid.status, JSON.stringify(paid.body)).toBe(201);
    await eventually(async () => expect((await getOrder(placed.order.id)).status).toBe('confirmed'), ASYNC_MS, 50);
    return { ...placed, payment: paid.body as { id: string } };
  }

  it('product → contact → order → reserved → paid with pm_card_visa → confirmed → email at the SMTP server', async () => {
    const { order, item, buyer } = await reservedOrder(2);
    const paid = await pay(buyer.token, order.id, 'pm_card_visa');
    expect(paid.status, JSON.stringify(paid.body)).toBe(201);
    expect(paid.body).toMatchObject({ order_id: order.id, amount_cents: 2_500, status: 'captured', failure_reason: null });

    await eventually(async () => expect((await getOrder(order.id)).status).toBe('confirmed'), ASYNC_MS, 50);
    const mail = await eventually(() => {
      const found = mailTo(buyer.email, orderNumber(order.id));
      expect(found).toHaveLength(1);
      return found[0]!;
    }, ASYNC_MS, 50);
    expect(mail.raw).toMatch(new RegExp(`Subject: .*${orderNumber(order.id)}.*confirmed`, 'i'));
    expect(mail.raw).toContain(item.name);
    expect(mail.raw).toContain('$25.00');
    // The customer sees their own order, as confirmed, from any process.
    const own = await send('GET', `/api/orders/${order.id}`, { token: buyer.token });
    expect([own.status, own.body.status]).toEqual([200, 'confirmed']);
  });

  it('declines pm_card_chargeDeclined with 402 and keeps the failed payment; the order stays pending', async () => {
    const { order, buyer } = await reservedOrder(1);
    const declined = await pay(buyer.token, order.id, 'pm_card_chargeDeclined');
    expect(declined.status).toBe(402);
    expect(declined.headers.get('content-type')).toContain('application/problem+json');
    expect(declined.body).toMatchObject({ code: 'payment_declined', status: 402 });
    expect(await paymentsOf(order.id)).toEqual([expect.objectContaining({ status: 'failed', failure_reason: 'card_declined', amount_cents: 1_250 })]);
    expect((await getOrder(order.id)).status).toBe('pending');
  });

  it('cancelling a paid order refunds the payment and releases the stock', async () => {
    const { order, item, buyer, payment } = await paidOrder(3);
    const cancelled = await send('POST', `/api/orders/${order.id}/cancel`, { token: buyer.token, body: { reason: 'changed my mind' } });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    await eventually(async () => {
      expect((await send('GET', `/api/payments/${payment.id}`, { token: buyer.token })).body.status).toBe('refunded');
      expect(await getProduct(item.id)).toMatchObject({ stock_quantity: 10, reserved_quantity: 0 });
      expect(mailTo(buyer.email, 'cancelled')).toHaveLength(1);
    }, ASYNC_MS, 50);
  });

  it('cancels an order that cannot be reserved: insufficient_stock', async () => {
    const item = await product(1);
    const buyer = await customer(false);
    const res = await send('POST', '/api/orders', { token: buyer.token, body: { items: [{ product_id: item.id, quantity: 2 }], idempotency_key: randomUUID() } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    await eventually(async () => expect(await getOrder(res.body.id)).toMatchObject({ status: 'cancelled', cancel_reason: 'insufficient_stock' }), ASYNC_MS, 50);
    expect(await getProduct(item.id)).toMatchObject({ stock_quantity: 1, reserved_quantity: 0 });
  });

  it('shipping a paid order commits its stock', async () => {
    const { order, item, buyer } = await paidOrder(4);
    const shipped = await send('POST', `/api/orders/${order.id}/ship`, { token: admin() });
    expect(shipped.status, JSON.stringify(shipped.body)).toBe(200);
    await eventually(async () => {
      expect(await getProduct(item.id)).toMatchObject({ stock_quantity: 6, reserved_quantity: 0 });
      expect(mailTo(buyer.email, 'shipped')).toHaveLength(1);
    }, ASYNC_MS, 50);
  });

  it('reviews: only a buyer whose order was delivered may review, once; the product shows the rating summary; removal takes it back', async () => {
    const { order, item, buyer } = await paidOrder(1);
    const review = (token: string, body: unknown, headers?: Record<string, string>) => send('POST', `/api/products/${item.id}/reviews`, { token, body, ...(headers ? { headers } : {}) });
    const early = await review(buyer.token, { rating: 5, body: 'Not here yet' });
    expect(early.status, JSON.stringify(early.body)).toBe(403);
    expect(early.body).toMatchObject({ code: 'not_a_verified_purchase' });
    for (const step of ['ship', 'deliver']) {
      const res = await send('POST', `/api/orders/${order.id}/${step}`, { token: admin() });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    // Reviews learns of the delivery from orders' OrderDelivered (version 2, with the items), wherever each runs.
    const key = randomUUID();
    let posted: CallResult | undefined;
    await eventually(async () => {
      posted = await review(buyer.token, { rating: 4, body: 'Keeps coffee hot' }, { 'idempotency-key': key });
      expect(posted.status, JSON.stringify(posted.body)).toBe(201);
    }, ASYNC_MS, 100);
    const created = posted!.body as { id: string };
    expect(created).toMatchObject({ product_id: item.id, customer_id: buyer.id, rating: 4, body: 'Keeps coffee hot' });
    const replay = await review(buyer.token, { rating: 4, body: 'Keeps coffee hot' }, { 'idempotency-key': key });
    expect({ status: replay.status, body: replay.body }).toEqual({ status: 200, body: created });
    const second = await review(buyer.token, { rating: 1, body: 'Changed my mind' });
    expect({ status: second.status, code: (second.body as { code: string }).code }).toEqual({ status: 409, code: 'review_exists' });
    const bad = await review(buyer.token, { rating: 6, body: 'Too good' });
    expect({ status: bad.status, code: (bad.body as { code: string }).code }).toEqual({ status: 400, code: 'invalid_input' });
    expect((bad.body as { detail: string }).detail).toContain('rating');

    const listed = await send('GET', `/api/products/${item.id}/reviews`, { token: (await customer(false)).token });
    expect({ status: listed.status, body: listed.body }).toEqual({ status: 200, body: [created] });
    // Inventory keeps the summary from reviews' events.
    await eventually(async () => expect(await getProduct(item.id)).toMatchObject({ rating_average: 4, review_count: 1 }), ASYNC_MS, 50);

    const stranger = await customer(false);
    const refused = await send('DELETE', `/api/reviews/${created.id}`, { token: stranger.token });
    expect({ status: refused.status, code: (refused.body as { code: string }).code }).toEqual({ status: 404, code: 'review_not_found' });
    const removed = await send('DELETE', `/api/reviews/${created.id}`, { token: buyer.token });
    expect(removed.status, JSON.stringify(removed.body)).toBe(204);
    await eventually(async () => expect(await getProduct(item.id)).toMatchObject({ rating_average: null, review_count: 0 }), ASYNC_MS, 50);
  });

  it("hides another customer's order behind 404", async () => {
    const { order } = await reservedOrder(1);
    const stranger = await customer(false);
    // Asked of every process: each one enforces ownership, wherever orders runs.
    for (const url of target().urls) {
      const res = await call(url, 'GET', `/api/orders/${order.id}`, { token: stranger.token });
      expect([res.status, res.body.code]).toEqual([404, 'order_not_found']);
      const paying = await call(url, 'POST', '/api/payments', { token: stranger.token, body: { order_id: order.id, payment_method: 'pm_card_visa', idempotency_key: randomUUID() } });
      expect(paying.status).toBe(404);
    }
    expect(await paymentsOf(order.id)).toEqual([]);
  });

  it('answers bad input with a 400 problem naming the field', async () => {
    const item = await product(5);
    const buyer = await customer(false);
    const cases: Array<{ path: string; token: string; body: unknown; field: string }> = [
      { path: '/api/orders', token: buyer.token, body: { items: [{ product_id: item.id, quantity: 0 }], idempotency_key: randomUUID() }, field: 'quantity' },
      { path: '/api/orders', token: buyer.token, body: { items: [{ product_id: 'not-a-uuid', quantity: 1 }], idempotency_key: randomUUID() }, field: 'product_id' },
      { path: '/api/payments', token: buyer.token, body: { order_id: randomUUID(), idempotency_key: randomUUID() }, field: 'payment_method' },
      { path: '/api/products', token: admin(), body: { sku: `BAD-${run}`, name: 'x', price_cents: '100', stock_quantity: 1 }, field: 'price_cents' },
    ];
    for (const bad of cases) {
      // Each case on every process: all of them validate the same way.
      for (const url of target().urls) {
        const res = await call(url, 'POST', bad.path, { token: bad.token, body: bad.body });
        expect(res.status, `${bad.path} ${bad.field}: ${JSON.stringify(res.body)}`).toBe(400);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(res.body.code).toBe('invalid_input');
        expect(res.body.detail).toContain(bad.field);
      }
    }
  });
}
