import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrdersApi } from '@shop/orders-contract';
import { eventually } from '@shop/platform/testing';
import { ADMIN_ID, startTestApp, type TestApp } from './harness.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PROBLEM = /^application\/problem\+json/;

function expectProblem(res: { status: number; body: any; headers: Headers }, status: number, code: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get('content-type')).toMatch(PROBLEM);
  expect(res.body).toMatchObject({ status, code, detail: expect.any(String) });
}

describe('orders over HTTP', () => {
  let t: TestApp;
  let orders: OrdersApi;
  let seq = 0;

  beforeAll(async () => {
    t = await startTestApp();
    orders = t.moduleApi<OrdersApi>('orders');
  });
  afterAll(() => t.stop());

  async function product(price_cents = 1000, stock_quantity = 100) {
    const res = await t.call('POST', '/api/products', {
      token: t.adminToken,
      body: { sku: `ORD-${++seq}-${Date.now().toString(36)}`, name: `Product ${seq}`, price_cents, stock_quantity },
    });
    expect(res.status).toBe(201);
    return res.body as { id: string; price_cents: number };
  }

  async function customer() {
    const id = randomUUID();
    return { id, token: await t.tokenFor(id) };
  }

  async function placeOrder(token: string, items: { product_id: string; quantity: number }[], extra: Record<string, unknown> = {}) {
    const res = await t.call('POST', '/api/orders', { token, body: { items, idempotency_key: `key-${randomUUID()}`, ...extra } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  const getProduct = async (id: string) => (await t.call('GET', `/api/products/${id}`, { token: t.adminToken })).body;
  const reservationsOf = async (orderId: string) => (await t.call('GET', `/api/reservations?order_id=${orderId}`, { token: t.adminToken })).body;

  async function reserved(orderId: string, productId: string, quantity: number) {
    await eventually(async () => {
      const list = await reservationsOf(orderId);
      expect(list).toEqual([expect.objectContaining({ product_id: productId, quantity, status: 'active' })]);
    });
  }

  describe('creating', () => {
    it('answers 201 with the order priced from the catalog', async () => {
      const a = await product(1250);
      const b = await product(399);
      const c = await customer();
      const before = Date.now();
      const res = await t.call('POST', '/api/orders', {
        token: c.token,
        body: {
          items: [
            { product_id: a.id, quantity: 2 },
            { product_id: b.id, quantity: 3 },
          ],
          idempotency_key: 'create-1',
        },
      });
      expect(res.status).toBe(201);
      expect(Object.keys(res.body).sort()).toEqual(['cancel_reason', 'created_at', 'customer_id', 'id', 'items', 'status', 'total_cents', 'updated_at']);
      expect(res.body).toMatchObject({
        customer_id: c.id,
        status: 'pending',
        cancel_reason: null,
        total_cents: 2 * 1250 + 3 * 399,
      });
      expect(res.body.items).toEqual([
        { product_id: a.id, quantity: 2, unit_price_cents: 1250 },
        { product_id: b.id, quantity: 3, unit_price_cents: 399 },
      ]);
      expect(res.body.id).toMatch(UUID);
      expect(Date.parse(res.body.created_at)).toBeGreaterThan(before - 60_000);
      expect(Date.parse(res.body.updated_at)).not.toBeNaN();

      const fetched = await t.call('GET', `/api/orders/${res.body.id}`, { token: c.token });
      expect(fetched.status).toBe(200);
      expect(fetched.body).toEqual(res.body);
    });

    it('rejects a client-sent unit price as an unknown field: 400', async () => {
      const a = await product(1000);
      const c = await customer();
      const res = await t.call('POST', '/api/orders', {
        token: c.token,
        body: { items: [{ product_id: a.id, quantity: 1, unit_price_cents: 1 }], idempotency_key: 'cheap' },
      });
      expectProblem(res, 400, 'invalid_input');
      expect(res.body.detail).toContain('unit_price_cents');
      const list = await t.call('GET', `/api/customers/${c.id}/orders`, { token: c.token });
      expect(list.body).toEqual([]);

      const total = await t.call('POST', '/api/orders', {
        token: c.token,
        body: { items: [{ product_id: a.id, quantity: 1 }], total_cents: 1, idempotency_key: 'cheap2' },
      });
      expectProblem(total, 400, 'invalid_input');
      expect(total.body.detail).toContain('total_cents');
    });

    it("defaults customer_id to the token's sub, and accepts naming oneself", async () => {
      const a = await product();
      const c = await customer();
      const order = await placeOrder(c.token, [{ product_id: a.id, quantity: 1 }]);
      expect(order.customer_id).toBe(c.id);
      const named = await placeOrder(c.token, [{ product_id: a.id, quantity: 1 }], { customer_id: c.id });
      expect(named.customer_id).toBe(c.id);
    });

    it('forbids naming another customer: 403 forbidden, and creates nothing', async () => {
      const a = await product();
      const c = await customer();
      const victim = randomUUID();
      const res = await t.call('POST', '/api/orders', {
        token: c.token,
        body: { customer_id: victim, items: [{ product_id: a.id, quantity: 1 }], idempotency_key: 'impersonate' },
      });
      expectProblem(res, 403, 'forbidden');
      const list = await t.call('GET', `/api/customers/${victim}/orders`, { token: t.adminToken });
      expect(list.status).toBe(200);
      expect(list.body).toEqual([]);
    });

    it('lets an admin create an order for any customer', async () => {
      const a = await product(700);
      const c = await customer();
      const res = await t.call('POST', '/api/orders', {
        token: t.adminToken,
        body: { customer_id: c.id, items: [{ product_id: a.id, quantity: 2 }], idempotency_key: 'by-admin' },
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ customer_id: c.id, total_cents: 1400, status: 'pending' });
      // The customer owns it.
      const mine = await t.call('GET', `/api/orders/${res.body.id}`, { token: c.token });
      expect(mine.status).toBe(200);
      const list = await t.call('GET', `/api/customers/${c.id}/orders`, { token: c.token });
      expect(list.body.map((o: any) => o.id)).toEqual([res.body.id]);
      // Without customer_id, the admin's own id.
      const own = await t.call('POST', '/api/orders', {
        token: t.adminToken,
        body: { items: [{ product_id: a.id, quantity: 1 }], idempotency_key: 'admin-own' },
      });
      expect(own.status).toBe(201);
      expect(own.body.customer_id).toBe(ADMIN_ID);
    });

    it('requires an idempotency key: 400 naming idempotency_key', async () => {
      const a = await product();
      const c = await customer();
      const res = await t.call('POST', '/api/orders', { token: c.token, body: { items: [{ product_id: a.id, quantity: 1 }] } });
      expectProblem(res, 400, 'invalid_input');
      expect(res.body.detail).toContain('idempotency_key');
      const blankHeader = await t.call('POST', '/api/orders', {
        token: c.token,
        body: { items: [{ product_id: a.id, quantity: 1 }] },
        headers: { 'idempotency-key': '   ' },
      });
      expectProblem(blankHeader, 400, 'invalid_input');
      expect(blankHeader.body.detail).toContain('idempotency_key');
      const list = await t.call('GET', `/api/customers/${c.id}/orders`, { token: c.token });
      expect(list.body).toEqual([]);
    });

    it('takes the key from the Idempotency-Key header', async () => {
      const a = await product();
      const c = await customer();
      const key = `hdr-${randomUUID()}`;
      const body = { items: [{ product_id: a.id, quantity: 1 }] };
      const first = await t.call('POST', '/api/orders', { token: c.token, body, headers: { 'Idempotency-Key': key } });
      expect(first.status).toBe(201);
      const retry = await t.call('POST', '/api/orders', { token: c.token, body, headers: { 'Idempotency-Key': key } });
      expect(retry.status).toBe(200);
      expect(retry.body.id).toBe(first.body.id);
      // The same key as a body field is the same key.
      const asField = await t.call('POST', '/api/orders', { token: c.token, body: { ...body, idempotency_key: key } });
      expect(asField.status).toBe(200);
      expect(asField.body.id).toBe(first.body.id);
    });

    it('takes the key from one place: header and body field must agree (400 naming both), equal values are one key', async () => {
      const a = await product();
      const c = await customer();
      const items = [{ product_id: a.id, quantity: 1 }];
      const differ = await t.call('POST', '/api/orders', { token: c.token, body: { items, idempotency_key: 'body-key' }, headers: { 'Idempotency-Key': 'header-key' } });
      expectProblem(differ, 400, 'invalid_input');
      expect(differ.body.detail).toContain('headers.idempotency-key');
      expect(differ.body.detail).toContain('body.idempotency_key');
      expect((await t.call('GET', `/api/customers/${c.id}/orders`, { token: c.token })).body).toEqual([]);

      const key = `both-${randomUUID()}`;
      const first = await t.call('POST', '/api/orders', { token: c.token, body: { items, idempotency_key: key }, headers: { 'Idempotency-Key': key } });
      expect(first.status, JSON.stringify(first.body)).toBe(201);
      const headerOnly = await t.call('POST', '/api/orders', { token: c.token, body: { items }, headers: { 'Idempotency-Key': key } });
      expect(headerOnly.status).toBe(200);
      expect(headerOnly.body.id).toBe(first.body.id);
    });

    it('says in the OpenAPI document where the key comes from and that the two must agree', async () => {
      const document = (await t.call('GET', '/openapi.json')).body;
      for (const path of ['/api/orders', '/api/payments']) {
        expect(document.paths[path].post.description, path).toMatch(/Idempotency-Key.*either alone.*must be equal/is);
      }
    });

    it('replays the same key and payload: 200 with the same body as the first 201, no second order', async () => {
      const a = await product(450);
      const c = await customer();
      const body = { items: [{ product_id: a.id, quantity: 2 }], idempotency_key: 'replay-me' };
      const first = await t.call('POST', '/api/orders', { token: c.token, body });
      expect(first.status).toBe(201);
      await reserved(first.body.id, a.id, 2);
      const second = await t.call('POST', '/api/orders', { token: c.token, body });
      expect(second.status).toBe(200);
      expect(second.body).toEqual(first.body);
      const third = await t.call('POST', '/api/orders', { token: c.token, body });
      expect(third.status).toBe(200);
      expect(third.body).toEqual(first.body);

      const list = await t.call('GET', `/api/customers/${c.id}/orders`, { token: c.token });
      expect(list.body).toHaveLength(1);
      // No second effect: still one reservation of 2.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await getProduct(a.id)).reserved_quantity).toBe(2);
      expect(await reservationsOf(first.body.id)).toHaveLength(1);
    });

    it('refuses the same key with another payload: 422 idempotency_key_reused', async () => {
      const a = await product();
      const c = await customer();
      const first = await t.call('POST', '/api/orders', { token: c.token, body: { items: [{ product_id: a.id, quantity: 1 }], idempotency_key: 'reused' } });
      expect(first.status).toBe(201);
      const other = await t.call('POST', '/api/orders', { token: c.token, body: { items: [{ product_id: a.id, quantity: 2 }], idempotency_key: 'reused' } });
      expectProblem(other, 422, 'idempotency_key_reused');
      const list = await t.call('GET', `/api/customers/${c.id}/orders`, { token: c.token });
      expect(list.body).toHaveLength(1);
      // Keys belong to a customer: another customer may use the same key.
      const d = await customer();
      const theirs = await t.call('POST', '/api/orders', { token: d.token, body: { items: [{ product_id: a.id, quantity: 2 }], idempotency_key: 'reused' } });
      expect(theirs.status).toBe(201);
      expect(theirs.body.id).not.toBe(first.body.id);
    });

    it('refuses an unknown product: 422 product_not_found', async () => {
      const a = await product();
      const c = await customer();
      const res = await t.call('POST', '/api/orders', {
        token: c.token,
        body: { items: [{ product_id: a.id, quantity: 1 }, { product_id: randomUUID(), quantity: 1 }], idempotency_key: 'ghost' },
      });
      expectProblem(res, 422, 'product_not_found');
      const list = await t.call('GET', `/api/customers/${c.id}/orders`, { token: c.token });
      expect(list.body).toEqual([]);
    });

    it('refuses empty items: 400', async () => {
      const c = await customer();
      const res = await t.call('POST', '/api/orders', { token: c.token, body: { items: [], idempotency_key: 'empty' } });
      expectProblem(res, 400, 'invalid_input');
      expect(res.body.detail).toContain('items');
    });
  });

  describe('reading', () => {
    it("hides another customer's order: 404 order_not_found; admins see it", async () => {
      const a = await product();
      const owner = await customer();
      const other = await customer();
      const order = await placeOrder(owner.token, [{ product_id: a.id, quantity: 1 }]);
      const theirs = await t.call('GET', `/api/orders/${order.id}`, { token: other.token });
      expectProblem(theirs, 404, 'order_not_found');
      const missing = await t.call('GET', `/api/orders/${randomUUID()}`, { token: other.token });
      expectProblem(missing, 404, 'order_not_found');
      // Same answer for "exists but not yours" and "does not exist".
      expect(Object.keys(theirs.body).sort()).toEqual(Object.keys(missing.body).sort());
      const admin = await t.call('GET', `/api/orders/${order.id}`, { token: t.adminToken });
      expect(admin.status).toBe(200);
      expect(admin.body.id).toBe(order.id);
    });

    it("hides another customer's list: 404", async () => {
      const a = await product();
      const owner = await customer();
      const other = await customer();
      await placeOrder(owner.token, [{ product_id: a.id, quantity: 1 }]);
      const res = await t.call('GET', `/api/customers/${owner.id}/orders`, { token: other.token });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(PROBLEM);
      expect(res.body.code).toEqual(expect.any(String));
      expect(JSON.stringify(res.body)).not.toContain('"status":"pending"');
      const admin = await t.call('GET', `/api/customers/${owner.id}/orders`, { token: t.adminToken });
      expect(admin.status).toBe(200);
      expect(admin.body).toHaveLength(1);
    });

    it("lists a customer's orders 20 a page, newest first", async () => {
      const a = await product(100, 1000);
      const c = await customer();
      const ids: string[] = [];
      for (let i = 0; i < 23; i++) ids.push((await placeOrder(c.token, [{ product_id: a.id, quantity: 1 }])).id);
      const newestFirst = [...ids].reverse();
      const page0 = await t.call('GET', `/api/customers/${c.id}/orders`, { token: c.token });
      expect(page0.status).toBe(200);
      expect(page0.body.map((o: any) => o.id)).toEqual(newestFirst.slice(0, 20));
      expect(page0.headers.get('link')).toMatch(/page=1[^>]*>;\s*rel="next"/);
      const created = page0.body.map((o: any) => Date.parse(o.created_at));
      expect([...created].sort((x, y) => y - x)).toEqual(created);
      const page1 = await t.call('GET', `/api/customers/${c.id}/orders?page=1`, { token: c.token });
      expect(page1.status).toBe(200);
      expect(page1.body.map((o: any) => o.id)).toEqual(newestFirst.slice(20));
      expect(page1.headers.get('link')).toBeNull();
      // Full orders, with their items.
      expect(page1.body[0].items).toEqual([{ product_id: a.id, quantity: 1, unit_price_cents: 100 }]);
    });
  });

  describe('the status machine', () => {
    it('cancels a pending order: 200 with cancel_reason; its reservation is released', async () => {
      const a = await product(500, 10);
      const c = await customer();
      const order = await placeOrder(c.token, [{ product_id: a.id, quantity: 4 }]);
      await reserved(order.id, a.id, 4);
      expect((await getProduct(a.id)).reserved_quantity).toBe(4);

      const res = await t.call('POST', `/api/orders/${order.id}/cancel`, { token: c.token, body: { reason: 'changed my mind' } });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: order.id, status: 'cancelled', cancel_reason: 'changed my mind' });
      expect((await t.call('GET', `/api/orders/${order.id}`, { token: c.token })).body).toMatchObject({ status: 'cancelled', cancel_reason: 'changed my mind' });

      await eventually(async () => {
        expect(await reservationsOf(order.id)).toEqual([expect.objectContaining({ status: 'released', quantity: 4 })]);
        expect(await getProduct(a.id)).toMatchObject({ stock_quantity: 10, reserved_quantity: 0 });
      });

      const again = await t.call('POST', `/api/orders/${order.id}/cancel`, { token: c.token, body: { reason: 'twice' } });
      expectProblem(again, 409, 'invalid_state_transition');
      expect((await t.call('GET', `/api/orders/${order.id}`, { token: c.token })).body.cancel_reason).toBe('changed my mind');
    });

    it('cancels without a body, giving a default reason', async () => {
      const a = await product();
      const c = await customer();
      const order = await placeOrder(c.token, [{ product_id: a.id, quantity: 1 }]);
      const res = await t.call('POST', `/api/orders/${order.id}/cancel`, { token: c.token });
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('cancelled');
      expect(res.body.cancel_reason).toEqual(expect.any(String));
    });

    it("does not let a customer cancel another customer's order: 404", async () => {
      const a = await product();
      const owner = await customer();
      const other = await customer();
      const order = await placeOrder(owner.token, [{ product_id: a.id, quantity: 1 }]);
      const res = await t.call('POST', `/api/orders/${order.id}/cancel`, { token: other.token, body: { reason: 'mischief' } });
      expectProblem(res, 404, 'order_not_found');
      expect((await t.call('GET', `/api/orders/${order.id}`, { token: owner.token })).body.status).toBe('pending');
    });

    it('lets only admins ship and deliver: 403 forbidden for the customer', async () => {
      const a = await product();
      const c = await customer();
      const order = await placeOrder(c.token, [{ product_id: a.id, quantity: 1 }]);
      await reserved(order.id, a.id, 1);
      await orders.confirmOrder(order.id);
      expectProblem(await t.call('POST', `/api/orders/${order.id}/ship`, { token: c.token }), 403, 'forbidden');
      expect((await t.call('GET', `/api/orders/${order.id}`, { token: c.token })).body.status).toBe('confirmed');
      expect((await t.call('POST', `/api/orders/${order.id}/ship`, { token: t.adminToken })).status).toBe(200);
      expectProblem(await t.call('POST', `/api/orders/${order.id}/deliver`, { token: c.token }), 403, 'forbidden');
      expect((await t.call('GET', `/api/orders/${order.id}`, { token: c.token })).body.status).toBe('shipped');
    });

    it('runs pending → confirmed → shipped (stock committed) → delivered', async () => {
      const a = await product(250, 10);
      const b = await product(100, 5);
      const c = await customer();
      const order = await placeOrder(c.token, [
        { product_id: a.id, quantity: 3 },
        { product_id: b.id, quantity: 2 },
      ]);
      await eventually(async () => {
        const list = await reservationsOf(order.id);
        expect(list).toHaveLength(2);
        expect(list.every((r: any) => r.status === 'active')).toBe(true);
      });
      expect(await getProduct(a.id)).toMatchObject({ stock_quantity: 10, reserved_quantity: 3 });
      expect(await getProduct(b.id)).toMatchObject({ stock_quantity: 5, reserved_quantity: 2 });

      const confirmed = await orders.confirmOrder(order.id);
      expect(confirmed.status).toBe('confirmed');
      expect((await t.call('GET', `/api/orders/${order.id}`, { token: c.token })).body.status).toBe('confirmed');

      const shipped = await t.call('POST', `/api/orders/${order.id}/ship`, { token: t.adminToken });
      expect(shipped.status).toBe(200);
      expect(shipped.body).toMatchObject({ id: order.id, status: 'shipped', cancel_reason: null });
      expect(Date.parse(shipped.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(order.updated_at));
      await eventually(async () => {
        const list = await reservationsOf(order.id);
        expect(list.map((r: any) => r.status)).toEqual(['committed', 'committed']);
        expect(await getProduct(a.id)).toMatchObject({ stock_quantity: 7, reserved_quantity: 0 });
        expect(await getProduct(b.id)).toMatchObject({ stock_quantity: 3, reserved_quantity: 0 });
      });

      const cancelShipped = await t.call('POST', `/api/orders/${order.id}/cancel`, { token: t.adminToken, body: { reason: 'too late' } });
      expectProblem(cancelShipped, 409, 'invalid_state_transition');
      const shipAgain = await t.call('POST', `/api/orders/${order.id}/ship`, { token: t.adminToken });
      expectProblem(shipAgain, 409, 'invalid_state_transition');

      const delivered = await t.call('POST', `/api/orders/${order.id}/deliver`, { token: t.adminToken });
      expect(delivered.status).toBe(200);
      expect(delivered.body).toMatchObject({ id: order.id, status: 'delivered' });
      expect((await t.call('GET', `/api/orders/${order.id}`, { token: c.token })).body.status).toBe('delivered');
      expectProblem(await t.call('POST', `/api/orders/${order.id}/cancel`, { token: c.token }), 409, 'invalid_state_transition');
      expectProblem(await t.call('POST', `/api/orders/${order.id}/deliver`, { token: t.adminToken }), 409, 'invalid_state_transition');
      // The stock stays where shipping left it.
      expect(await getProduct(a.id)).toMatchObject({ stock_quantity: 7, reserved_quantity: 0 });
    });

    it('refuses to deliver a confirmed order, or ship a pending one: 409', async () => {
      const a = await product();
      const c = await customer();
      const order = await placeOrder(c.token, [{ product_id: a.id, quantity: 1 }]);
      await reserved(order.id, a.id, 1);
      expectProblem(await t.call('POST', `/api/orders/${order.id}/ship`, { token: t.adminToken }), 409, 'invalid_state_transition');
      expectProblem(await t.call('POST', `/api/orders/${order.id}/deliver`, { token: t.adminToken }), 409, 'invalid_state_transition');
      await orders.confirmOrder(order.id);
      const res = await t.call('POST', `/api/orders/${order.id}/deliver`, { token: t.adminToken });
      expectProblem(res, 409, 'invalid_state_transition');
      expect((await t.call('GET', `/api/orders/${order.id}`, { token: c.token })).body.status).toBe('confirmed');
    });

    it('cancels a confirmed order and releases its stock', async () => {
      const a = await product(100, 5);
      const c = await customer();
      const order = await placeOrder(c.token, [{ product_id: a.id, quantity: 5 }]);
      await reserved(order.id, a.id, 5);
      await orders.confirmOrder(order.id);
      const res = await t.call('POST', `/api/orders/${order.id}/cancel`, { token: c.token, body: { reason: 'no longer needed' } });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'cancelled', cancel_reason: 'no longer needed' });
      await eventually(async () => {
        expect(await getProduct(a.id)).toMatchObject({ stock_quantity: 5, reserved_quantity: 0 });
        expect((await reservationsOf(order.id))[0].status).toBe('released');
      });
    });

    it('answers 404 order_not_found for state changes on an unknown order', async () => {
      const id = randomUUID();
      expectProblem(await t.call('POST', `/api/orders/${id}/cancel`, { token: t.adminToken, body: {} }), 404, 'order_not_found');
      expectProblem(await t.call('POST', `/api/orders/${id}/ship`, { token: t.adminToken }), 404, 'order_not_found');
      expectProblem(await t.call('POST', `/api/orders/${id}/deliver`, { token: t.adminToken }), 404, 'order_not_found');
    });
  });
});
