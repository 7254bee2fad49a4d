import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@shop/platform/testing';
import { startTestApp, type TestApp } from './harness.ts';
import { metric } from './metrics-text.ts';


/** What an operator alerts on (docs/operating.md), after one checkout through the monolith. */
describe('operator metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  it('pools, call latency, outbox age, event lag, provider outcomes and build_info are on /metrics', async () => {
    const product = await t.call('POST', '/api/products', { token: t.adminToken, body: { sku: `MET-${randomUUID()}`, name: 'Metered', price_cents: 400, stock_quantity: 3 } });
    const customer = randomUUID();
    const token = await t.tokenFor(customer);
    const order = await t.call('POST', '/api/orders', { token, body: { items: [{ product_id: product.body.id, quantity: 1 }], idempotency_key: randomUUID() } });
    expect(order.status).toBe(201);
    await t.call('POST', '/api/payments', { token, body: { order_id: order.body.id, payment_method: 'pm_card_visa', idempotency_key: randomUUID() } });
    await t.call('POST', '/api/payments', { token, body: { order_id: order.body.id, payment_method: 'pm_card_chargeDeclined', idempotency_key: randomUUID() } });
    await eventually(async () => expect((await t.call('GET', `/api/orders/${order.body.id}`, { token })).body.status).toBe('confirmed'));

    const text = await eventually(async () => {
      const scraped = (await t.call('GET', '/metrics')).body as string;
      expect(metric(scraped, 'event_handling_lag_seconds_count', { consumer: 'orders' })).toBeGreaterThanOrEqual(1);
      return scraped;
    });
    expect(metric(text, 'build_info', { version: '0.1.0', node: process.version })).toBe(1);
    // Pools: the owner's and each module role's (or the owner's alone when roles are off).
    expect(metric(text, 'db_pool_connections', { pool: 'owner', state: 'max' })).toBeGreaterThan(0);
    for (const state of ['total', 'idle', 'waiting']) expect(metric(text, 'db_pool_connections', { state }, 'nan')).toBeGreaterThanOrEqual(0);
    // Module calls by side: payments read the order through OrdersApi, in process.
    expect(metric(text, 'module_call_duration_seconds_count', { module: 'orders', method: 'getOrder', side: 'local' })).toBeGreaterThanOrEqual(1);
    // Outboxes: reported, and nothing stuck (an event written a moment ago may still be on its way).
    expect(metric(text, 'outbox_oldest_pending_age_seconds', { module: 'orders' }, 'nan')).toBeLessThan(5);
    // Events handled here, batched in process or not: inventory reserved, orders confirmed.
    expect(metric(text, 'event_handling_lag_seconds_count', { consumer: 'inventory' })).toBeGreaterThanOrEqual(1);
    // The payment provider's answers, by outcome.
    expect(metric(text, 'external_calls_total', { module: 'payments', service: 'payment-provider', operation: 'charge', outcome: 'captured' })).toBe(1);
  });
});
