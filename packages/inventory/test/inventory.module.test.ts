import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StockReleased, StockReservationFailed, StockReserved, type InventoryApi } from '@shop/inventory-contract';
import { OrderCancelled, OrderCreated, OrderShipped } from '@shop/orders-contract';
import { startModuleTestKit, type ModuleTestKit } from '@shop/platform/testing';
import { createInventoryModule, inventoryMigrations } from '../src/index.ts';

/** The inventory module alone: orders' events handed to it, the events it answers with awaited. */
describe('inventory, as a module', () => {
  let kit: ModuleTestKit;
  let inventory: InventoryApi;
  let seq = 0;

  beforeAll(async () => {
    kit = await startModuleTestKit([inventoryMigrations]);
    inventory = (await kit.run(createInventoryModule(kit.deps('inventory')))).api;
  });
  afterAll(() => kit.stop());

  const product = async (stock: number) =>
    (await inventory.createProduct({ sku: `MOD-${++seq}`, name: `Module ${seq}`, price_cents: 100, stock_quantity: stock })).product;
  const orderOf = (lines: { product_id: string; quantity: number }[]) => ({
    order_id: randomUUID(),
    customer_id: randomUUID(),
    items: lines.map((line) => ({ ...line, unit_price_cents: 100 })),
    total_cents: lines.reduce((sum, line) => sum + 100 * line.quantity, 0),
  });

  it('reserves every item of a new order and says so with StockReserved', async () => {
    const [a, b] = [await product(5), await product(5)];
    const order = orderOf([{ product_id: a.id, quantity: 2 }, { product_id: b.id, quantity: 5 }]);
    const { payload, result } = await kit.scenario
      .publish(OrderCreated, order, 'orders')
      .andWaitForEvent(StockReserved, (reserved) => reserved.order_id === order.order_id);
    expect(payload.items).toHaveLength(2);
    expect((await inventory.getProduct(b.id)).reserved_quantity).toBe(5);

    // Redelivered: nothing is held twice.
    await kit.scenario.redeliver(result);
    expect((await inventory.getProduct(a.id)).reserved_quantity).toBe(2);
    expect(kit.scenario.eventsOf(StockReserved, (reserved) => reserved.order_id === order.order_id)).toHaveLength(1);
  });

  it('holds nothing when one item is short, and names the shortage', async () => {
    const [plenty, scarce] = [await product(10), await product(1)];
    const order = orderOf([{ product_id: plenty.id, quantity: 3 }, { product_id: scarce.id, quantity: 2 }]);
    const { payload } = await kit.scenario
      .publish(OrderCreated, order, 'orders')
      .andWaitForEvent(StockReservationFailed, (failed) => failed.order_id === order.order_id);
    expect(payload.shortages).toEqual([{ product_id: scarce.id, requested: 2, available: 1 }]);
    expect((await inventory.getProduct(plenty.id)).reserved_quantity).toBe(0);
  });

  it('releases on OrderCancelled and commits on OrderShipped', async () => {
    const p = await product(10);
    const kept = orderOf([{ product_id: p.id, quantity: 4 }]);
    const dropped = orderOf([{ product_id: p.id, quantity: 3 }]);
    for (const order of [kept, dropped]) {
      await kit.scenario.publish(OrderCreated, order, 'orders').andWaitForEvent(StockReserved, (r) => r.order_id === order.order_id);
    }
    await kit.scenario
      .publish(OrderCancelled, { ...dropped, reason: 'changed_mind', previous_status: 'pending' }, 'orders')
      .andWaitForEvent(StockReleased, (released) => released.order_id === dropped.order_id);
    await kit.scenario
      .publish(OrderShipped, kept, 'orders')
      .andWaitForStateChange(() => inventory.listReservations(kept.order_id), (held) => held.every((r) => r.status === 'committed'));
    expect(await inventory.getProduct(p.id)).toMatchObject({ stock_quantity: 6, reserved_quantity: 0 });
  });
});
