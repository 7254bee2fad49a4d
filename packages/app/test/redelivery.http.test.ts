import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '@shop/contract-kit';
import { eventually } from '@shop/platform/testing';
import { startTestApp, type TestApp } from './harness.ts';
import { startSmtpInbox, type SmtpInbox } from './smtp-inbox.ts';

const SCHEMAS = ['orders', 'inventory', 'payments', 'notifications'] as const;

/**
 * Every event of whole checkouts, delivered a second time to every consumer (as a broker or a
 * retried outbox would), changes nothing: the same rows, the same stock, the same emails.
 */
describe('redelivering every event of a checkout', () => {
  let t: TestApp;
  let inbox: SmtpInbox;

  beforeAll(async () => {
    inbox = await startSmtpInbox();
    t = await startTestApp({ SMTP_URL: inbox.url });
  });
  afterAll(async () => {
    await t.stop();
    await inbox.close();
  });

  const sql = async (text: string, values: unknown[] = []) => (await t.app.database.pool.query(text, values)).rows;

  /** What a second delivery could disturb, read straight from every module's tables. */
  const snapshot = async () => ({
    orders: await sql('SELECT id, status, cancel_reason, updated_at FROM orders.orders ORDER BY id'),
    products: await sql('SELECT id, stock_quantity, reserved_quantity FROM inventory.products ORDER BY id'),
    reservations: await sql('SELECT id, status FROM inventory.reservations ORDER BY id'),
    payments: await sql('SELECT id, status FROM payments.payments ORDER BY id'),
    notifications: await sql('SELECT id, channel, kind, status FROM notifications.notifications ORDER BY id'),
    outboxes: await Promise.all(SCHEMAS.map((schema) => sql(`SELECT count(*)::int AS n FROM ${schema}.outbox`))),
    emails: inbox.messages.length,
  });

  async function delivered(): Promise<EventEnvelope[]> {
    const events: EventEnvelope[] = [];
    for (const schema of SCHEMAS) {
      const rows = await sql(`SELECT id, event_type, event_version, payload, occurred_at, status FROM ${schema}.outbox ORDER BY occurred_at`);
      for (const row of rows) {
        expect(row.status, `${schema} ${row.event_type}`).toBe('delivered');
        events.push({ id: row.id, type: row.event_type, version: row.event_version, source: schema, occurred_at: new Date(row.occurred_at).toISOString(), payload: row.payload });
      }
    }
    return events;
  }

  it('changes nothing a second time', async () => {
    const admin = { token: t.adminToken };
    const product = (await t.call('POST', '/api/products', { ...admin, body: { sku: 'REDO-1', name: 'Redo', price_cents: 700, stock_quantity: 5 } })).body;
    const customer = randomUUID();
    const token = await t.tokenFor(customer);
    await t.call('PUT', `/api/customers/${customer}/contact`, { token, body: { email: 'redo@example.test' } });
    const place = async (quantity: number) =>
      (await t.call('POST', '/api/orders', { token, body: { items: [{ product_id: product.id, quantity }], idempotency_key: randomUUID() } })).body;

    const [refunded, shipped, unstocked] = [await place(1), await place(2), await place(50)];
    await eventually(async () => expect((await sql('SELECT count(*)::int AS n FROM inventory.reservations'))[0].n).toBe(2));
    for (const order of [refunded, shipped]) {
      const paid = await t.call('POST', '/api/payments', { token, body: { order_id: order.id, payment_method: 'pm_card_visa', idempotency_key: randomUUID() } });
      expect(paid.status).toBe(201);
    }
    await eventually(async () => expect((await sql(`SELECT count(*)::int AS n FROM orders.orders WHERE status = 'confirmed'`))[0].n).toBe(2));
    await t.call('POST', `/api/orders/${refunded.id}/cancel`, { token, body: {} });
    await t.call('POST', `/api/orders/${shipped.id}/ship`, admin);
    await eventually(async () => {
      expect((await sql(`SELECT status FROM payments.payments WHERE order_id = $1`, [refunded.id]))[0].status).toBe('refunded');
      expect((await sql(`SELECT status FROM orders.orders WHERE id = $1`, [unstocked.id]))[0].status).toBe('cancelled');
      expect(await sql(`SELECT status FROM notifications.notifications WHERE status NOT IN ('sent', 'skipped')`)).toEqual([]);
      const pending = await Promise.all(SCHEMAS.map((schema) => sql(`SELECT 1 FROM ${schema}.outbox WHERE status <> 'delivered'`)));
      expect(pending.flat()).toEqual([]);
    });

    const before = await snapshot();
    const events = await delivered();
    expect(new Set(events.map((event) => event.type))).toEqual(
      new Set(['OrderCreated', 'StockReserved', 'StockReservationFailed', 'OrderCancelled', 'StockReleased', 'PaymentCaptured', 'OrderConfirmed', 'PaymentRefunded', 'OrderShipped', 'NotificationSent']),
    );
    const subscriptions = t.app.modules.flatMap((module) => module.subscriptions);
    let handled = 0;
    for (const event of events) {
      for (const subscription of subscriptions.filter((candidate) => candidate.events.includes(event.type))) {
        await subscription.handle(event);
        handled += 1;
      }
    }
    expect(handled).toBeGreaterThan(events.length / 2);
    // Give anything a redelivery might have set off (a send, a refund) the time to show.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await snapshot()).toEqual(before);
  });
});
