import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@shop/platform/testing';
import { startTestApp, type TestApp } from './harness.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PROBLEM = /^application\/problem\+json/;

function expectProblem(res: { status: number; body: any; headers: Headers }, status: number, code: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get('content-type')).toMatch(PROBLEM);
  expect(res.body).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
}

describe('inventory over HTTP', () => {
  let t: TestApp;
  let seq = 0;
  const sku = () => `SKU-${Date.now().toString(36)}-${++seq}`;

  async function createProduct(overrides: Record<string, unknown> = {}) {
    const res = await t.call('POST', '/api/products', {
      token: t.adminToken,
      body: { sku: sku(), name: 'Widget', price_cents: 1250, stock_quantity: 10, ...overrides },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  // First, while the catalog is still empty, so the counts are exact.
  it('lists the catalog 20 a page, newest first, with a Link rel="next" header while more follow', async () => {
    const created: string[] = [];
    for (let i = 0; i < 25; i++) created.push((await createProduct({ sku: `PAGE-${i}`, name: `Page ${i}` })).id);
    const newestFirst = [...created].reverse();

    const page0 = await t.call('GET', '/api/products', { token: t.adminToken });
    expect(page0.status).toBe(200);
    expect(page0.body).toHaveLength(20);
    expect(page0.body.map((p: any) => p.id)).toEqual(newestFirst.slice(0, 20));
    const link = page0.headers.get('link');
    expect(link).toMatch(/rel="next"/);
    expect(link).toContain('page=1');

    const explicit0 = await t.call('GET', '/api/products?page=0', { token: t.adminToken });
    expect(explicit0.body.map((p: any) => p.id)).toEqual(newestFirst.slice(0, 20));

    const page1 = await t.call('GET', '/api/products?page=1', { token: t.adminToken });
    expect(page1.status).toBe(200);
    expect(page1.body.map((p: any) => p.id)).toEqual(newestFirst.slice(20));
    expect(page1.body).toHaveLength(5);
    expect(page1.headers.get('link')).toBeNull();

    const page2 = await t.call('GET', '/api/products?page=2', { token: t.adminToken });
    expect(page2.status).toBe(200);
    expect(page2.body).toEqual([]);

    // A customer may browse the catalog too.
    const asCustomer = await t.call('GET', '/api/products?page=1', { token: await t.tokenFor(randomUUID()) });
    expect(asCustomer.status).toBe(200);
    expect(asCustomer.body).toHaveLength(5);
  });

  it('creates a product: 201 with the full product', async () => {
    const before = Date.now();
    const res = await t.call('POST', '/api/products', {
      token: t.adminToken,
      body: { sku: 'CREATE-1', name: 'Blue mug', price_cents: 899, stock_quantity: 12 },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(res.body).sort()).toEqual(['created_at', 'id', 'name', 'price_cents', 'rating_average', 'reserved_quantity', 'review_count', 'sku', 'stock_quantity']);
    expect(res.body).toMatchObject({ sku: 'CREATE-1', name: 'Blue mug', price_cents: 899, stock_quantity: 12, reserved_quantity: 0, rating_average: null, review_count: 0 });
    expect(res.body.id).toMatch(UUID);
    const createdAt = Date.parse(res.body.created_at);
    expect(createdAt).not.toBeNaN();
    expect(createdAt).toBeGreaterThan(before - 60_000);
    expect(createdAt).toBeLessThan(Date.now() + 60_000);
  });

  it('refuses a duplicate sku: 409 sku_conflict', async () => {
    await createProduct({ sku: 'DUP-1' });
    const again = await t.call('POST', '/api/products', {
      token: t.adminToken,
      body: { sku: 'DUP-1', name: 'Another', price_cents: 1, stock_quantity: 1 },
    });
    expectProblem(again, 409, 'sku_conflict');
  });

  it('lets only admins create products: 403 forbidden for a customer', async () => {
    const res = await t.call('POST', '/api/products', {
      token: await t.tokenFor(randomUUID()),
      body: { sku: 'NOPE-1', name: 'Nope', price_cents: 1, stock_quantity: 1 },
    });
    expectProblem(res, 403, 'forbidden');
    const list = await t.call('GET', '/api/products?page=0', { token: t.adminToken });
    expect(list.body.some((p: any) => p.sku === 'NOPE-1')).toBe(false);
  });

  it('answers 401 problem+json without a token', async () => {
    for (const [method, path, body] of [
      ['POST', '/api/products', { sku: 'NOAUTH-1', name: 'x', price_cents: 1, stock_quantity: 1 }],
      ['GET', '/api/products', undefined],
      ['GET', `/api/products/${randomUUID()}`, undefined],
      ['POST', `/api/products/${randomUUID()}/stock`, { delta: 1 }],
      ['GET', `/api/reservations?order_id=${randomUUID()}`, undefined],
    ] as const) {
      const res = await t.call(method, path, { body });
      expectProblem(res, 401, 'unauthorized');
      expect(res.headers.get('content-type')).toMatch(PROBLEM);
    }
    const malformed = await t.call('GET', '/api/products', { headers: { authorization: 'Bearer not.a.jwt' } });
    expectProblem(malformed, 401, 'unauthorized');
    const basic = await t.call('GET', '/api/products', { headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } });
    expectProblem(basic, 401, 'unauthorized');
  });

  it('gets a product by id: 200, or 404 product_not_found', async () => {
    const product = await createProduct({ name: 'Lookup' });
    const found = await t.call('GET', `/api/products/${product.id}`, { token: await t.tokenFor(randomUUID()) });
    expect(found.status).toBe(200);
    expect(found.body).toEqual(product);

    const missing = await t.call('GET', `/api/products/${randomUUID()}`, { token: t.adminToken });
    expectProblem(missing, 404, 'product_not_found');
  });

  it('adjusts stock by delta: 200 with the product', async () => {
    const product = await createProduct({ stock_quantity: 10 });
    const up = await t.call('POST', `/api/products/${product.id}/stock`, { token: t.adminToken, body: { delta: 5 } });
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({ id: product.id, stock_quantity: 15, reserved_quantity: 0 });
    const down = await t.call('POST', `/api/products/${product.id}/stock`, { token: t.adminToken, body: { delta: -15 } });
    expect(down.status).toBe(200);
    expect(down.body.stock_quantity).toBe(0);
    const below = await t.call('POST', `/api/products/${product.id}/stock`, { token: t.adminToken, body: { delta: -1 } });
    expectProblem(below, 409, 'insufficient_stock');
    expect((await t.call('GET', `/api/products/${product.id}`, { token: t.adminToken })).body.stock_quantity).toBe(0);

    const asCustomer = await t.call('POST', `/api/products/${product.id}/stock`, { token: await t.tokenFor(randomUUID()), body: { delta: 100 } });
    expectProblem(asCustomer, 403, 'forbidden');
    expect((await t.call('GET', `/api/products/${product.id}`, { token: t.adminToken })).body.stock_quantity).toBe(0);

    const unknown = await t.call('POST', `/api/products/${randomUUID()}/stock`, { token: t.adminToken, body: { delta: 1 } });
    expectProblem(unknown, 404, 'product_not_found');
  });

  it('never lets stock fall below what is reserved: 409 insufficient_stock; lists reservations for admins only', async () => {
    const product = await createProduct({ stock_quantity: 10, price_cents: 300 });
    const customer = randomUUID();
    const customerToken = await t.tokenFor(customer);
    const order = await t.call('POST', '/api/orders', {
      token: customerToken,
      body: { items: [{ product_id: product.id, quantity: 6 }], idempotency_key: `inv-${randomUUID()}` },
    });
    expect(order.status).toBe(201);
    await eventually(async () => {
      const after = await t.call('GET', `/api/products/${product.id}`, { token: t.adminToken });
      expect(after.body).toMatchObject({ stock_quantity: 10, reserved_quantity: 6 });
    });

    // 10 on hand, 6 reserved: taking 5 away would leave 5 < 6.
    const tooMuch = await t.call('POST', `/api/products/${product.id}/stock`, { token: t.adminToken, body: { delta: -5 } });
    expectProblem(tooMuch, 409, 'insufficient_stock');
    const unchanged = await t.call('GET', `/api/products/${product.id}`, { token: t.adminToken });
    expect(unchanged.body).toMatchObject({ stock_quantity: 10, reserved_quantity: 6 });
    // Down to exactly what is reserved is fine.
    const exact = await t.call('POST', `/api/products/${product.id}/stock`, { token: t.adminToken, body: { delta: -4 } });
    expect(exact.status).toBe(200);
    expect(exact.body).toMatchObject({ stock_quantity: 6, reserved_quantity: 6 });

    const reservations = await t.call('GET', `/api/reservations?order_id=${order.body.id}`, { token: t.adminToken });
    expect(reservations.status).toBe(200);
    expect(reservations.body).toHaveLength(1);
    expect(reservations.body[0]).toMatchObject({ order_id: order.body.id, product_id: product.id, quantity: 6, status: 'active' });
    expect(reservations.body[0].id).toMatch(UUID);

    const none = await t.call('GET', `/api/reservations?order_id=${randomUUID()}`, { token: t.adminToken });
    expect(none.status).toBe(200);
    expect(none.body).toEqual([]);

    const forbidden = await t.call('GET', `/api/reservations?order_id=${order.body.id}`, { token: customerToken });
    expectProblem(forbidden, 403, 'forbidden');
  });

  describe('Idempotency-Key on product creation', () => {
    it('replays the same request: 200 with the same product, no second product', async () => {
      const key = `prod-${randomUUID()}`;
      const body = { sku: 'IDEM-1', name: 'Idempotent', price_cents: 500, stock_quantity: 3 };
      const first = await t.call('POST', '/api/products', { token: t.adminToken, body, headers: { 'idempotency-key': key } });
      expect(first.status).toBe(201);
      const second = await t.call('POST', '/api/products', { token: t.adminToken, body, headers: { 'Idempotency-Key': key } });
      expect(second.status).toBe(200);
      expect(second.body.id).toBe(first.body.id);
      expect(second.body).toEqual(first.body);
      const { rows } = await t.app.database.pool.query(`SELECT count(*)::int AS n FROM inventory.products WHERE sku = 'IDEM-1'`);
      expect(rows[0].n).toBe(1);
    });

    it('refuses the same key with another body: 422 idempotency_key_reused', async () => {
      const key = `prod-${randomUUID()}`;
      const first = await t.call('POST', '/api/products', {
        token: t.adminToken,
        body: { sku: 'IDEM-2', name: 'First', price_cents: 500, stock_quantity: 3 },
        headers: { 'idempotency-key': key },
      });
      expect(first.status).toBe(201);
      const other = await t.call('POST', '/api/products', {
        token: t.adminToken,
        body: { sku: 'IDEM-3', name: 'Second', price_cents: 600, stock_quantity: 3 },
        headers: { 'idempotency-key': key },
      });
      expectProblem(other, 422, 'idempotency_key_reused');
      const { rows } = await t.app.database.pool.query(`SELECT count(*)::int AS n FROM inventory.products WHERE sku = 'IDEM-3'`);
      expect(rows[0].n).toBe(0);
    });

    it('without a key, a second identical request is a sku conflict, not a replay', async () => {
      const body = { sku: 'NOKEY-1', name: 'No key', price_cents: 1, stock_quantity: 1 };
      expect((await t.call('POST', '/api/products', { token: t.adminToken, body })).status).toBe(201);
      expectProblem(await t.call('POST', '/api/products', { token: t.adminToken, body }), 409, 'sku_conflict');
    });
  });
});
