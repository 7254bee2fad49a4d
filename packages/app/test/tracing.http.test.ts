import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@shop/platform/testing';
import { startTestApp, type TestApp } from './harness.ts';

/** One request is one trace: its events, and the reactions to them in other modules, carry it on. */
describe('trace context through the saga', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  const sql = async (text: string, values: unknown[] = []) => (await t.app.database.pool.query(text, values)).rows;

  it('continues the caller traceparent into OrderCreated and into the StockReserved inventory answers with', async () => {
    const traceId = randomUUID().replace(/-/g, '');
    const product = (await t.call('POST', '/api/products', { token: t.adminToken, body: { sku: `TRACE-${traceId.slice(0, 6)}`, name: 'Traced', price_cents: 100, stock_quantity: 5 } })).body;
    const res = await t.call('POST', '/api/orders', {
      token: await t.tokenFor(randomUUID()),
      headers: { traceparent: `00-${traceId}-${'1'.repeat(16)}-01`, 'x-request-id': 'trace-test-1' },
      body: { items: [{ product_id: product.id, quantity: 1 }], idempotency_key: randomUUID() },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toBe('trace-test-1');

    const [created] = await sql(`SELECT traceparent FROM orders.outbox WHERE event_type = 'OrderCreated' AND payload->>'order_id' = $1`, [res.body.id]);
    expect(created.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    const reserved = await eventually(async () => {
      const rows = await sql(`SELECT traceparent FROM inventory.outbox WHERE event_type = 'StockReserved' AND payload->>'order_id' = $1`, [res.body.id]);
      expect(rows).toHaveLength(1);
      return rows[0];
    });
    expect(reserved.traceparent).toMatch(new RegExp(`^00-${traceId}-`));
  });
});
