import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StockReleased, StockReservationFailed, StockReserved, type InventoryApi, type Product } from '@shop/inventory-contract';
import { OrderCancelled, OrderCreated, OrderShipped } from '@shop/orders-contract';
import { ReviewPosted, ReviewRemoved } from '@shop/reviews-contract';
import { startModuleTestKit, type ModuleTestKit } from '@shop/platform/testing';
import { createInventoryModule, inventoryMigrations } from '../src/index.ts';

/** The inventory module alone: orders' and reviews' events handed to it, the events it answers with (or the state it reaches) awaited. */
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

  describe('a batch of events (the outbox hands over what it claimed)', () => {
    it('serves the orders in turn: each holds all or nothing, and nothing is oversold', async () => {
      const p = await product(5);
      const cancelledFirst = orderOf([{ product_id: p.id, quantity: 1 }]);
      // Its cancellation was handled before its creation arrived: it must hold nothing.
      await kit.scenario.publish(OrderCancelled, { ...cancelledFirst, reason: 'changed_mind', previous_status: 'pending' }, 'orders').andWaitForStateChange(async () => true);
      const orders = [2, 2, 2].map((quantity) => orderOf([{ product_id: p.id, quantity }]));
      const { result } = await kit.scenario
        .publishBatch(OrderCreated, [orders[0]!, cancelledFirst, orders[1]!, orders[2]!], 'orders')
        .andWaitForEvent(StockReservationFailed, (failed) => failed.order_id === orders[2]!.order_id);
      expect(result.outcomes.every((outcome) => outcome.status === 'fulfilled')).toBe(true);

      expect(kit.scenario.eventsOf(StockReservationFailed, (failed) => failed.order_id === orders[2]!.order_id)[0]!.shortages).toEqual([
        { product_id: p.id, requested: 2, available: 1 },
      ]);
      for (const order of orders.slice(0, 2)) expect(kit.scenario.eventsOf(StockReserved, (reserved) => reserved.order_id === order.order_id)).toHaveLength(1);
      expect(kit.scenario.eventsOf(StockReserved, (reserved) => reserved.order_id === cancelledFirst.order_id)).toHaveLength(0);
      expect(await inventory.listReservations(cancelledFirst.order_id)).toEqual([]);
      expect(await inventory.getProduct(p.id)).toMatchObject({ stock_quantity: 5, reserved_quantity: 4 });

      // The whole batch redelivered: nothing is held twice, nothing is said twice.
      await kit.bus.publishBatch(result.events);
      expect(await inventory.getProduct(p.id)).toMatchObject({ reserved_quantity: 4 });
      expect(kit.scenario.eventsOf(StockReserved, (reserved) => reserved.order_id === orders[0]!.order_id)).toHaveLength(1);
    });

    it('applies a mixed batch in its order: a cancellation frees stock for the order after it', async () => {
      const p = await product(5);
      const [first, second] = [orderOf([{ product_id: p.id, quantity: 3 }]), orderOf([{ product_id: p.id, quantity: 3 }])];
      const envelope = (type: string, payload: unknown) => ({ id: randomUUID(), type, version: 1, source: 'orders', occurred_at: new Date().toISOString(), payload });
      const events = [
        envelope(OrderCreated.type, first),
        envelope(OrderCancelled.type, { ...first, reason: 'changed_mind', previous_status: 'pending' }),
        envelope(OrderCreated.type, second),
      ];
      const { result: outcomes } = await kit.scenario
        .stimulate(() => kit.bus.publishBatch(events))
        .andWaitForEvent(StockReserved, (reserved) => reserved.order_id === second.order_id);
      expect(outcomes.every((outcome) => outcome.status === 'fulfilled')).toBe(true);
      expect(await inventory.getProduct(p.id)).toMatchObject({ stock_quantity: 5, reserved_quantity: 3 });
      expect((await inventory.listReservations(first.order_id)).map((r) => r.status)).toEqual(['released']);
    });
  });

  describe("the rating summary, from reviews' events", () => {
    type Summary = Pick<Product, 'rating_average' | 'review_count'>;
    type Review = { review_id: string; product_id: string; customer_id: string; rating: number };
    const summaryOf = async (id: string): Promise<Summary> => {
      const { rating_average, review_count } = await inventory.getProduct(id);
      return { rating_average, review_count };
    };
    const review = (product_id: string, rating: number): Review => ({ review_id: randomUUID(), product_id, customer_id: randomUUID(), rating });
    const post = (posted: Review, until: (summary: Summary) => boolean) =>
      kit.scenario.publish(ReviewPosted, posted, 'reviews').andWaitForStateChange(() => summaryOf(posted.product_id), until);
    const remove = ({ review_id, product_id, rating }: Review, until: (summary: Summary) => boolean) =>
      kit.scenario.publish(ReviewRemoved, { review_id, product_id, rating }, 'reviews').andWaitForStateChange(() => summaryOf(product_id), until);

    it('a new product has no rating: null and 0', async () => {
      expect(await summaryOf((await product(1)).id)).toEqual({ rating_average: null, review_count: 0 });
    });

    it('averages the posted ratings, counts a redelivered event once, and takes removed ones out', async () => {
      const p = await product(1);
      const [five, four] = [review(p.id, 5), review(p.id, 4)];
      await post(five, (summary) => summary.review_count === 1);
      const { result: fourPosted, value } = await post(four, (summary) => summary.review_count === 2);
      expect(value).toEqual({ rating_average: 4.5, review_count: 2 });

      // Redelivered: the inbox has it, nothing changes.
      await kit.scenario.redeliver(fourPosted);
      expect(await summaryOf(p.id)).toEqual({ rating_average: 4.5, review_count: 2 });

      expect((await remove(four, (summary) => summary.review_count === 1)).value).toEqual({ rating_average: 5, review_count: 1 });
      expect((await remove(five, (summary) => summary.review_count === 0)).value).toEqual({ rating_average: null, review_count: 0 });
      // The stock is not touched by any of it.
      expect(await inventory.getProduct(p.id)).toMatchObject({ stock_quantity: 1, reserved_quantity: 0 });
      // Handled by a consumer of their own, apart from the saga's (which locks orders).
      const consumers = await kit.sql<{ consumer: string }>(`SELECT DISTINCT consumer FROM inventory.inbox WHERE event_type IN ('ReviewPosted', 'ReviewRemoved')`);
      expect(consumers).toEqual([{ consumer: 'inventory-ratings' }]);
    });

    it('rounds the average to 2 decimals: 5, 5 and 4 give 4.67', async () => {
      const p = await product(1);
      for (const [index, rating] of [5, 5, 4].entries()) await post(review(p.id, rating), (summary) => summary.review_count === index + 1);
      expect(await summaryOf(p.id)).toEqual({ rating_average: 4.67, review_count: 3 });
    });

    it('ends right when a removal arrives before its posting', async () => {
      const p = await product(1);
      const [kept, overtaken] = [review(p.id, 4), review(p.id, 2)];
      await post(kept, (summary) => summary.review_count === 1);
      // The removal first: for a moment the sum is 2 over 0 reviews, which reads as no rating.
      await remove(overtaken, (summary) => summary.review_count === 0);
      expect(await summaryOf(p.id)).toEqual({ rating_average: null, review_count: 0 });
      expect((await post(overtaken, (summary) => summary.review_count === 1)).value).toEqual({ rating_average: 4, review_count: 1 });

      // Alone on a product, the early removal reads as no rating too (never a negative count),
      // and its posting then cancels it out.
      const q = await product(1);
      const lone = review(q.id, 3);
      await kit.scenario.publish(ReviewRemoved, { review_id: lone.review_id, product_id: q.id, rating: 3 }, 'reviews').andWaitForStateChange(async () => true);
      expect(await summaryOf(q.id)).toEqual({ rating_average: null, review_count: 0 });
      await kit.scenario.publish(ReviewPosted, lone, 'reviews').andWaitForStateChange(async () => true);
      expect(await summaryOf(q.id)).toEqual({ rating_average: null, review_count: 0 });
      expect(await kit.sql('SELECT rating_sum, review_count FROM inventory.products WHERE id = $1', [q.id])).toEqual([{ rating_sum: 0, review_count: 0 }]);
      await post(review(q.id, 5), (summary) => summary.review_count === 1);
      expect(await summaryOf(q.id)).toEqual({ rating_average: 5, review_count: 1 });
    });

    it('applies a batch of review events for several products at once, each counted once', async () => {
      const [a, b] = [await product(1), await product(1)];
      const [a5, a3, b1] = [review(a.id, 5), review(a.id, 3), review(b.id, 1)];
      const envelope = (type: string, payload: unknown) => ({ id: randomUUID(), type, version: 1, source: 'reviews', occurred_at: new Date().toISOString(), payload });
      const events = [
        envelope(ReviewPosted.type, a5),
        // The same product named in capitals is still the same product.
        envelope(ReviewPosted.type, { ...b1, product_id: b1.product_id.toUpperCase() }),
        envelope(ReviewPosted.type, a3),
        envelope(ReviewRemoved.type, { review_id: a5.review_id, product_id: a.id, rating: 5 }),
        envelope(ReviewPosted.type, review(b.id, 2)),
      ];
      const outcomes = await kit.bus.publishBatch(events);
      expect(outcomes.every((outcome) => outcome.status === 'fulfilled')).toBe(true);
      expect(await summaryOf(a.id)).toEqual({ rating_average: 3, review_count: 1 });
      expect(await summaryOf(b.id)).toEqual({ rating_average: 1.5, review_count: 2 });

      // The whole batch redelivered: nothing counts twice.
      await kit.bus.publishBatch(events);
      expect(await summaryOf(a.id)).toEqual({ rating_average: 3, review_count: 1 });
      expect(await summaryOf(b.id)).toEqual({ rating_average: 1.5, review_count: 2 });
    });
  });
});

