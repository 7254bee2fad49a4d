import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@shop/platform/testing';
import { startTestApp, type TestApp } from './harness.ts';

describe('a new order on the running server', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  it('is priced from the catalog and its stock reserved right after commit', async () => {
    const product = await t.call('POST', '/api/products', { token: t.adminToken, body: { sku: 'SMOKE-1', name: 'Smoke', price_cents: 700, stock_quantity: 3 } });
    expect(product.status).toBe(201);
    const customer = randomUUID();
    const order = await t.call('POST', '/api/orders', {
      token: await t.tokenFor(customer),
      body: { items: [{ product_id: product.body.id, quantity: 2 }], idempotency_key: 'smoke' },
    });
    expect(order.status).toBe(201);
    expect(order.body).toMatchObject({ customer_id: customer, status: 'pending', total_cents: 1400 });
    await eventually(async () => {
      const after = await t.call('GET', `/api/products/${product.body.id}`, { token: t.adminToken });
      expect(after.body.reserved_quantity).toBe(2);
    });
  });
});
