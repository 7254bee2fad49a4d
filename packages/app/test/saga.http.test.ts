import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '@shop/contract-kit';
import type { OrdersApi } from '@shop/orders-contract';
import { eventually } from '@shop/platform/testing';
import { startTestApp, type TestApp } from './harness.ts';

describe('the checkout saga', () => {
  let t: TestApp;
  let orders: OrdersApi;
  let seq = 0;

  beforeAll(async () => {
    t = await startTestApp();
    orders = t.moduleApi<OrdersApi>('orders');
  });
  afterAll(() => t.stop());

  const sql = async (text: string, values: unknown[] = []) => (await t.app.database.pool.query(text, values)).rows;

  async function product(stock_quantity: number, price_cents = 500) {
    const res = await t.call('POST', '/api/products', {
      token: t.adminToken,
      body: { sku: `SAGA-${++seq}`, name: `Saga ${seq}`, price_cents, stock_quantity },
    });
    expect(res.status).toBe(201);
    return res.body as { id: string };
  }

  async function placeOrder(items: { product_id: string; quantity: number }[]) {
    const customer = randomUUID();
    const res = await t.call('POST', '/api/orders', {
      token: await t.tokenFor(customer),
      body: { items, idempotency_key: `saga-${randomUUID()}` },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  const getProduct = async (id: string) => (await t.call('GET', `/api/products/${id}`, { token: t.adminToken })).body;
  const getOrder = async (id: string) => (await t.call('GET', `/api/orders/${id}`, { token: t.adminToken })).body;
  const reservationsOf = async (orderId: string) => (await t.call('GET', `/api/reservations?order_id=${orderId}`, { token: t.adminToken })).body;

  /** The delivered outbox event of `type` about this order, as an envelope the bus would carry. */
  async function deliveredEvent(schema: 'orders' | 'inventory', type: string, orderId: string): Promise<EventEnvelope> {
    return eventually(async () => {
      const rows = await sql(
        `SELECT id, event_type, payload, occurred_at, status FROM ${schema}.outbox WHERE event_type = $1 AND payload->>'order_id' = $2`,
        [type, orderId],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0].status).toBe('delivered');
      const row = rows[0];
      return { id: row.id, type: row.event_type, version: 1, source: schema, occurred_at: new Date(row.occurred_at).toISOString(), payload: row.payload };
    });
  }

  /** Hands the event again to every subscription that consumes it, as a broker redelivery would. */
  async function redeliver(event: EventEnvelope): Promise<number> {
    const subscriptions = t.app.modules.flatMap((m) => m.subscriptions).filter((s) => s.events.includes(event.type));
    for (const subscription of subscriptions) await subscription.handle(event);
    return subscriptions.length;
  }

  const countEvents = async (schema: string, type: string, orderId: string) =>
    (await sql(`SELECT count(*)::int AS n FROM ${schema}.outbox WHERE event_type = $1 AND payload->>'order_id' = $2`, [type, orderId]))[0].n as number;

  describe('out of stock', () => {
    it('cancels the order with cancel_reason insufficient_stock and holds nothing', async () => {
      const scarce = await product(1);
      const order = await placeOrder([{ product_id: scarce.id, quantity: 2 }]);
      expect(order.status).toBe('pending');
      await eventually(async () => {
        expect(await getOrder(order.id)).toMatchObject({ status: 'cancelled', cancel_reason: 'insufficient_stock' });
      });
      expect(await reservationsOf(order.id)).toEqual([]);
      expect(await getProduct(scarce.id)).toMatchObject({ stock_quantity: 1, reserved_quantity: 0 });
    });

    it('is all or nothing: one short item means no item is reserved', async () => {
      const plenty = await product(50);
      const short = await product(2);
      const order = await placeOrder([
        { product_id: plenty.id, quantity: 5 },
        { product_id: short.id, quantity: 3 },
      ]);
      await eventually(async () => {
        expect(await getOrder(order.id)).toMatchObject({ status: 'cancelled', cancel_reason: 'insufficient_stock' });
      });
      // Let any straggling step run, then check nothing stayed reserved.
      await eventually(async () => {
        expect(await countEvents('orders', 'OrderCancelled', order.id)).toBe(1);
        const rows = await sql(`SELECT status FROM orders.outbox WHERE payload->>'order_id' = $1`, [order.id]);
        expect(rows.every((r) => r.status === 'delivered')).toBe(true);
      });
      expect(await reservationsOf(order.id)).toEqual([]);
      expect(await getProduct(plenty.id)).toMatchObject({ stock_quantity: 50, reserved_quantity: 0 });
      expect(await getProduct(short.id)).toMatchObject({ stock_quantity: 2, reserved_quantity: 0 });
      expect(await countEvents('inventory', 'StockReserved', order.id)).toBe(0);
      expect(await countEvents('inventory', 'StockReservationFailed', order.id)).toBe(1);

      // The stock that was there is still all there for the next order.
      const next = await placeOrder([
        { product_id: plenty.id, quantity: 50 },
        { product_id: short.id, quantity: 2 },
      ]);
      await eventually(async () => {
        expect(await reservationsOf(next.id)).toHaveLength(2);
      });
      expect(await getOrder(next.id)).toMatchObject({ status: 'pending', cancel_reason: null });
      expect(await getProduct(plenty.id)).toMatchObject({ stock_quantity: 50, reserved_quantity: 50 });
      expect(await getProduct(short.id)).toMatchObject({ stock_quantity: 2, reserved_quantity: 2 });
    });
  });

  describe('a redelivered event changes nothing a second time', () => {
    it('OrderCreated: no second reservation', async () => {
      const p = await product(10);
      const order = await placeOrder([{ product_id: p.id, quantity: 3 }]);
      const event = await deliveredEvent('orders', 'OrderCreated', order.id);
      await eventually(async () => expect((await getProduct(p.id)).reserved_quantity).toBe(3));
      const reservationsBefore = await reservationsOf(order.id);
      expect(reservationsBefore).toHaveLength(1);

      expect(await redeliver(event)).toBeGreaterThan(0);
      expect(await redeliver(event)).toBeGreaterThan(0);

      expect(await getProduct(p.id)).toMatchObject({ stock_quantity: 10, reserved_quantity: 3 });
      expect(await reservationsOf(order.id)).toEqual(reservationsBefore);
      expect((await sql(`SELECT count(*)::int AS n FROM inventory.reservations WHERE order_id = $1`, [order.id]))[0].n).toBe(1);
      expect(await countEvents('inventory', 'StockReserved', order.id)).toBe(1);
    });

    it('OrderCreated for an out-of-stock order: no second cancellation', async () => {
      const p = await product(1);
      const order = await placeOrder([{ product_id: p.id, quantity: 2 }]);
      await eventually(async () => expect((await getOrder(order.id)).status).toBe('cancelled'));
      const created = await deliveredEvent('orders', 'OrderCreated', order.id);
      const failed = await deliveredEvent('inventory', 'StockReservationFailed', order.id);
      const before = await getOrder(order.id);
      await redeliver(created);
      await redeliver(failed);
      expect(await getOrder(order.id)).toEqual(before);
      expect(await countEvents('inventory', 'StockReservationFailed', order.id)).toBe(1);
      expect(await countEvents('orders', 'OrderCancelled', order.id)).toBe(1);
      expect(await reservationsOf(order.id)).toEqual([]);
    });

    it('OrderCancelled: no double release', async () => {
      const p = await product(10);
      const cancelled = await placeOrder([{ product_id: p.id, quantity: 4 }]);
      const kept = await placeOrder([{ product_id: p.id, quantity: 2 }]);
      await eventually(async () => expect((await getProduct(p.id)).reserved_quantity).toBe(6));

      const res = await t.call('POST', `/api/orders/${cancelled.id}/cancel`, { token: t.adminToken, body: { reason: 'test' } });
      expect(res.status).toBe(200);
      const event = await deliveredEvent('orders', 'OrderCancelled', cancelled.id);
      await eventually(async () => expect((await getProduct(p.id)).reserved_quantity).toBe(2));
      const reservationsBefore = await reservationsOf(cancelled.id);
      expect(reservationsBefore.map((r: any) => r.status)).toEqual(['released']);

      expect(await redeliver(event)).toBeGreaterThan(0);
      expect(await redeliver(event)).toBeGreaterThan(0);

      // The other order's hold is untouched; nothing released twice.
      expect(await getProduct(p.id)).toMatchObject({ stock_quantity: 10, reserved_quantity: 2 });
      expect(await reservationsOf(cancelled.id)).toEqual(reservationsBefore);
      expect((await reservationsOf(kept.id)).map((r: any) => r.status)).toEqual(['active']);
      expect(await countEvents('inventory', 'StockReleased', cancelled.id)).toBe(1);
    });

    it('OrderShipped: no double commit', async () => {
      const p = await product(10);
      const shipped = await placeOrder([{ product_id: p.id, quantity: 3 }]);
      const other = await placeOrder([{ product_id: p.id, quantity: 2 }]);
      await eventually(async () => expect((await getProduct(p.id)).reserved_quantity).toBe(5));
      await orders.confirmOrder(shipped.id);
      const res = await t.call('POST', `/api/orders/${shipped.id}/ship`, { token: t.adminToken });
      expect(res.status).toBe(200);
      const event = await deliveredEvent('orders', 'OrderShipped', shipped.id);
      await eventually(async () => expect(await getProduct(p.id)).toMatchObject({ stock_quantity: 7, reserved_quantity: 2 }));
      const reservationsBefore = await reservationsOf(shipped.id);
      expect(reservationsBefore.map((r: any) => r.status)).toEqual(['committed']);

      expect(await redeliver(event)).toBeGreaterThan(0);
      expect(await redeliver(event)).toBeGreaterThan(0);

      expect(await getProduct(p.id)).toMatchObject({ stock_quantity: 7, reserved_quantity: 2 });
      expect(await reservationsOf(shipped.id)).toEqual(reservationsBefore);
      expect((await reservationsOf(other.id)).map((r: any) => r.status)).toEqual(['active']);
    });

    it('OrderCreated redelivered after the order was cancelled: nothing is reserved again', async () => {
      const p = await product(10);
      const order = await placeOrder([{ product_id: p.id, quantity: 4 }]);
      const created = await deliveredEvent('orders', 'OrderCreated', order.id);
      await eventually(async () => expect((await getProduct(p.id)).reserved_quantity).toBe(4));
      await t.call('POST', `/api/orders/${order.id}/cancel`, { token: t.adminToken, body: { reason: 'test' } });
      await eventually(async () => expect((await getProduct(p.id)).reserved_quantity).toBe(0));
      await redeliver(created);
      expect(await getProduct(p.id)).toMatchObject({ stock_quantity: 10, reserved_quantity: 0 });
      expect((await reservationsOf(order.id)).map((r: any) => r.status)).toEqual(['released']);
    });

    it('a fresh copy of OrderCreated with a new event id, for an order that was cancelled, reserves nothing', async () => {
      // A late, retried OrderCreated overtaken by its OrderCancelled (different id: no inbox hit).
      const p = await product(10);
      const order = await placeOrder([{ product_id: p.id, quantity: 4 }]);
      const created = await deliveredEvent('orders', 'OrderCreated', order.id);
      await eventually(async () => expect((await getProduct(p.id)).reserved_quantity).toBe(4));
      await t.call('POST', `/api/orders/${order.id}/cancel`, { token: t.adminToken, body: { reason: 'test' } });
      await eventually(async () => expect((await getProduct(p.id)).reserved_quantity).toBe(0));
      await redeliver({ ...created, id: randomUUID() });
      expect(await getProduct(p.id)).toMatchObject({ stock_quantity: 10, reserved_quantity: 0 });
      expect((await reservationsOf(order.id)).map((r: any) => r.status)).toEqual(['released']);
    });
  });
});
