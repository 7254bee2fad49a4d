import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '@shop/contract-kit';
import type { InventoryApi, Product } from '@shop/inventory-contract';
import { OrderDelivered, OrderDeliveredV1, type DeliveredItem, type OrdersApi } from '@shop/orders-contract';
import type { Subscription } from '@shop/platform';
import { eventually, startModuleTestKit, type ModuleTestKit } from '@shop/platform/testing';
import { createOrdersModule, ordersMigrations } from '../src/index.ts';

const CHEAP = '11111111-1111-4111-8111-111111111111';
const DEAR = '22222222-2222-4222-8222-222222222222';

/** Inventory as orders sees it: two products, nothing else used. */
function catalog(): InventoryApi {
  const product = (id: string, price_cents: number): Product => ({
    id, sku: `SKU-${price_cents}`, name: `Product ${price_cents}`, price_cents, stock_quantity: 10, reserved_quantity: 0, rating_average: null, review_count: 0, created_at: new Date().toISOString(),
  });
  const products = new Map([[CHEAP, product(CHEAP, 250)], [DEAR, product(DEAR, 1_000)]]);
  const unused = () => Promise.reject(new Error('not used by orders'));
  return { getProducts: async (ids) => ids.flatMap((id) => products.get(id) ?? []), getProduct: unused, createProduct: unused, listProducts: unused, adjustStock: unused, listReservations: unused };
}

/** A consumer written against version 1, before items existed: it declares and reads only what it needs. */
function v1Consumer() {
  const seen = new Map<string, { event: EventEnvelope; order_id: string; customer_id: string }>();
  const subscription: Subscription = {
    consumer: 'shipping-survey',
    events: [OrderDeliveredV1.type],
    handle: async (event) => {
      const { order_id, customer_id } = OrderDeliveredV1.payloadOf(event);
      seen.set(order_id, { event, order_id, customer_id });
    },
  };
  return { subscription, seen };
}

/**
 * A consumer written against version 2, as reviews would be: it needs the items, and it still
 * meets version 1 envelopes after the upgrade, which it reads through the version 1 spec.
 */
function v2Consumer() {
  const purchases = new Map<string, { event: EventEnvelope; customer_id: string; items: DeliveredItem[] }>();
  const withoutItems = new Map<string, { event: EventEnvelope; customer_id: string }>();
  const subscription: Subscription = {
    consumer: 'reviews',
    events: [OrderDelivered.type],
    handle: async (event) => {
      if (OrderDelivered.canRead(event)) {
        const { order_id, customer_id, items } = OrderDelivered.payloadOf(event);
        purchases.set(order_id, { event, customer_id, items });
      } else {
        const { order_id, customer_id } = OrderDeliveredV1.payloadOf(event);
        withoutItems.set(order_id, { event, customer_id });
      }
    },
  };
  return { subscription, purchases, withoutItems };
}

describe('OrderDelivered, versions 1 and 2 side by side', () => {
  let kit: ModuleTestKit;
  let orders: OrdersApi;
  const old = v1Consumer();
  const reviews = v2Consumer();

  beforeAll(async () => {
    kit = await startModuleTestKit([ordersMigrations]);
    orders = (await kit.run(createOrdersModule({ ...kit.deps('orders'), inventory: catalog() }))).api;
    kit.bus.subscribe(old.subscription);
    kit.bus.subscribe(reviews.subscription);
  });
  afterAll(() => kit.stop());

  async function shippedOrder() {
    const customer_id = randomUUID();
    const { order } = await orders.createOrder({
      customer_id,
      items: [{ product_id: CHEAP, quantity: 2 }, { product_id: DEAR, quantity: 1 }],
      idempotency_key: randomUUID(),
    });
    await orders.confirmOrder(order.id);
    await orders.shipOrder(order.id);
    return { order_id: order.id, customer_id };
  }

  it('publishes version 2 with the items, and a v1 consumer and a v2 consumer both read the same event', async () => {
    const { order_id, customer_id } = await shippedOrder();
    const { event } = await kit.scenario
      .stimulate(() => orders.deliverOrder(order_id))
      .andWaitForEvent(OrderDelivered, (delivered) => delivered.order_id === order_id);

    // What travels: version 2, exactly the declared payload (product and quantity, no prices).
    expect(event.version).toBe(2);
    expect(event.payload).toEqual({
      order_id,
      customer_id,
      items: [{ product_id: CHEAP, quantity: 2 }, { product_id: DEAR, quantity: 1 }],
    });
    const stored = await kit.sql(`SELECT event_version FROM orders.outbox WHERE id = $1`, [event.id]);
    expect(stored).toEqual([{ event_version: 2 }]);

    await eventually(() => {
      expect(old.seen.has(order_id)).toBe(true);
      expect(reviews.purchases.has(order_id)).toBe(true);
    });
    // The consumer written against version 1 reads its fields from the version 2 event, unchanged.
    expect(old.seen.get(order_id)).toEqual({ event, order_id, customer_id });
    // The consumer written against version 2 learns who bought what, from the same event.
    expect(reviews.purchases.get(order_id)).toEqual({
      event,
      customer_id,
      items: [{ product_id: CHEAP, quantity: 2 }, { product_id: DEAR, quantity: 1 }],
    });
    expect(reviews.withoutItems.has(order_id)).toBe(false);
  });

  it('hands a version 1 envelope (an outbox row from before the upgrade) to the v2 reader as one without items, never as an empty order', async () => {
    // An order delivered by the previous release: its outbox row carries version 1 and no items.
    const order_id = randomUUID();
    const customer_id = randomUUID();
    const id = randomUUID();
    await kit.sql(`INSERT INTO orders.outbox (id, event_type, event_version, payload) VALUES ($1, 'OrderDelivered', 1, $2)`, [
      id,
      JSON.stringify({ order_id, customer_id }),
    ]);

    await eventually(() => {
      expect(old.seen.has(order_id)).toBe(true);
      expect(reviews.withoutItems.has(order_id)).toBe(true);
    });
    const envelope = reviews.withoutItems.get(order_id)!.event;
    expect(envelope).toMatchObject({ id, type: 'OrderDelivered', version: 1, payload: { order_id, customer_id } });

    // The v1 consumer reads it as always; the v2 consumer takes the branch for old envelopes.
    expect(old.seen.get(order_id)).toMatchObject({ order_id, customer_id });
    expect(reviews.withoutItems.get(order_id)!.customer_id).toBe(customer_id);
    expect(reviews.purchases.has(order_id)).toBe(false);

    // Read directly as version 2 it is refused, with an error that says why, not typed as having items.
    expect(OrderDelivered.canRead(envelope)).toBe(false);
    expect(() => OrderDelivered.payloadOf(envelope)).toThrow(
      `OrderDelivered version 1 (event ${id}) cannot be read as version 2: it lacks the fields added since`,
    );
    // Which is not a refusal of everything: version 2 reads a version 2 envelope, version 1 reads both.
    const upgraded = { ...envelope, version: 2, payload: { order_id, customer_id, items: [] } };
    expect(OrderDelivered.canRead(upgraded)).toBe(true);
    expect(OrderDelivered.payloadOf(upgraded).items).toEqual([]);
    expect(OrderDeliveredV1.canRead(envelope) && OrderDeliveredV1.canRead(upgraded)).toBe(true);
    expect(OrderDeliveredV1.canRead({ ...envelope, type: 'OrderShipped' })).toBe(false);
  });
});
