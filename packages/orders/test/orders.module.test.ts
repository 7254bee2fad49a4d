import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isModuleError } from '@shop/contract-kit';
import { StockReservationFailed, type InventoryApi, type Product } from '@shop/inventory-contract';
import { OrderCancelled, OrderConfirmed, OrderCreated, type OrdersApi } from '@shop/orders-contract';
import { PaymentCaptured } from '@shop/payments-contract';
import { startModuleTestKit, type ModuleTestKit } from '@shop/platform/testing';
import { createOrdersModule, ordersMigrations } from '../src/index.ts';

/** A catalog that knows two products: inventory as orders sees it, through its interface. */
function catalog(): InventoryApi {
  const products = new Map<string, Product>(
    [
      ['11111111-1111-4111-8111-111111111111', 250],
      ['22222222-2222-4222-8222-222222222222', 1_000],
    ].map(([id, price]) => [
      id as string,
      { id: id as string, sku: `SKU-${price}`, name: `Product ${price}`, price_cents: price as number, stock_quantity: 10, reserved_quantity: 0, rating_average: null, review_count: 0, created_at: new Date().toISOString() },
    ]),
  );
  const unused = () => Promise.reject(new Error('not used by orders'));
  return {
    getProducts: async (ids) => ids.flatMap((id) => products.get(id) ?? []),
    getProduct: unused,
    createProduct: unused,
    listProducts: unused,
    adjustStock: unused,
    listReservations: unused,
  };
}

const CHEAP = '11111111-1111-4111-8111-111111111111';
const DEAR = '22222222-2222-4222-8222-222222222222';

/** The orders module alone: its interface stimulated, the events it publishes awaited. */
describe('orders, as a module', () => {
  let kit: ModuleTestKit;
  let orders: OrdersApi;

  beforeAll(async () => {
    kit = await startModuleTestKit([ordersMigrations]);
    orders = (await kit.run(createOrdersModule({ ...kit.deps('orders'), inventory: catalog() }))).api;
  });
  afterAll(() => kit.stop());

  const place = (items = [{ product_id: CHEAP, quantity: 2 }, { product_id: DEAR, quantity: 1 }]) =>
    orders.createOrder({ customer_id: randomUUID(), items, idempotency_key: randomUUID() });

  it('publishes OrderCreated with catalog prices when an order is placed', async () => {
    const { result, payload } = await kit.scenario
      .stimulate(() => place())
      .andWaitForEvent(OrderCreated, (event, { order }) => event.order_id === order.id);
    expect(result.order.status).toBe('pending');
    expect(payload.total_cents).toBe(2 * 250 + 1_000);
    expect(payload.items).toEqual([
      { product_id: CHEAP, quantity: 2, unit_price_cents: 250 },
      { product_id: DEAR, quantity: 1, unit_price_cents: 1_000 },
    ]);
  });

  it('confirms a pending order when its payment is captured, once however often the capture arrives', async () => {
    const { order } = await place();
    const captured = { payment_id: randomUUID(), order_id: order.id, amount_cents: order.total_cents, provider_ref: 'pi_1' };
    const { result: capture } = await kit.scenario
      .publish(PaymentCaptured, captured, 'payments')
      .andWaitForEvent(OrderConfirmed, (confirmed) => confirmed.order_id === order.id);
    expect((await orders.getOrder(order.id)).status).toBe('confirmed');

    // The same event again (broker redelivery), then another capture event for the same order.
    await kit.scenario.redeliver(capture);
    await kit.scenario.publish(PaymentCaptured, captured, 'payments').andExpectNoEvent(OrderConfirmed, (confirmed) => confirmed.order_id === order.id);
    expect(kit.scenario.eventsOf(OrderConfirmed, (confirmed) => confirmed.order_id === order.id)).toHaveLength(1);
  });

  it('leaves a cancelled order cancelled when a capture lands late (payments refunds it)', async () => {
    const { order } = await place();
    await orders.cancelOrder(order.id, 'changed_mind');
    await kit.scenario
      .publish(PaymentCaptured, { payment_id: randomUUID(), order_id: order.id, amount_cents: order.total_cents, provider_ref: 'pi_2' }, 'payments')
      .andExpectNoEvent(OrderConfirmed, (confirmed) => confirmed.order_id === order.id);
    expect((await orders.getOrder(order.id)).status).toBe('cancelled');
  });

  it('cancels an order inventory could not reserve, with the reason, exactly once', async () => {
    const { order } = await place();
    const { payload, result: failure } = await kit.scenario
      .publish(StockReservationFailed, { order_id: order.id, reason: 'insufficient_stock', shortages: [{ product_id: DEAR, requested: 1, available: 0 }] }, 'inventory')
      .andWaitForEvent(OrderCancelled, (cancelled) => cancelled.order_id === order.id);
    expect(payload).toMatchObject({ reason: 'insufficient_stock', previous_status: 'pending' });
    expect((await orders.getOrder(order.id)).cancel_reason).toBe('insufficient_stock');

    await kit.scenario.redeliver(failure);
    expect(kit.scenario.eventsOf(OrderCancelled, (cancelled) => cancelled.order_id === order.id)).toHaveLength(1);
  });

  it('answers a shipment of an unpaid order with invalid_state_transition and publishes nothing', async () => {
    const { order } = await place();
    const error = await orders.shipOrder(order.id).catch((caught: unknown) => caught);
    expect(isModuleError(error) && error.code).toBe('invalid_state_transition');
    const rows = await kit.sql(`SELECT count(*)::int AS n FROM orders.outbox WHERE event_type = 'OrderShipped' AND payload->>'order_id' = $1`, [order.id]);
    expect(rows[0]!.n).toBe(0);
  });
});
