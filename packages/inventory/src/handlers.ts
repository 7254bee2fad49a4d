import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '@shop/contract-kit';
import { StockReleased, StockReservationFailed, StockReserved } from '@shop/inventory-contract';
import { OrderCancelled, OrderCreated, OrderShipped } from '@shop/orders-contract';
import { ReviewPosted, ReviewRemoved } from '@shop/reviews-contract';
import { inboxSubscription, type Subscription, type Tx, type UnitOfWork } from '@shop/platform';
import { mergeLines, reserveInTurn } from './domain.ts';
import * as repo from './repository.ts';

export const CONSUMER = 'inventory';

/**
 * The rating summary's consumer: an inbox and a durable subscription of its own, apart from the
 * saga's, so review events neither lock orders nor wait behind them. A consumer name is one
 * token (letters, digits, - and _): the bus names its durable subscription after it.
 */
export const RATINGS_CONSUMER = 'inventory-ratings';

/**
 * The saga steps inventory owns, and the rating summary it keeps from reviews' events (`rate`,
 * below). Each runs once per event (inbox), in one transaction with the events it publishes
 * (outbox). Events come one at a time or several at once, as the bus hands them over; either
 * way they are applied in order, and a run of orders is reserved with one statement of each
 * kind for the lot.
 *
 * Every saga event is about one order, and the transaction locks its orders first: a reservation
 * and a release of the same order (two replicas, one handling its creation and the other its
 * cancellation) take turns, so the release always sees the reservation, or the reservation
 * sees the order closed. Without it both could miss each other and the stock stay held.
 */
export function inventorySubscriptions(uow: UnitOfWork): Subscription[] {
  return [
    inboxSubscription(uow, {
      consumer: CONSUMER,
      events: [OrderCreated.type, OrderCancelled.type, OrderShipped.type],
      effect: apply,
      serializeOn: { entity: 'order', idOf: orderIdOf },
    }),
    inboxSubscription(uow, {
      consumer: RATINGS_CONSUMER,
      events: [ReviewPosted.type, ReviewRemoved.type],
      effect: rate,
    }),
  ];
}

function orderIdOf(event: EventEnvelope): string {
  return (event.payload as { order_id: string }).order_id;
}

async function apply(tx: Tx, events: readonly EventEnvelope[]): Promise<void> {
  for (let start = 0; start < events.length; ) {
    const event = events[start]!;
    if (event.type === OrderCreated.type) {
      let end = start + 1;
      while (events[end]?.type === OrderCreated.type) end += 1;
      await reserve(tx, events.slice(start, end));
      start = end;
      continue;
    }
    if (event.type === OrderCancelled.type) await release(tx, event);
    else if (event.type === OrderShipped.type) await commit(tx, event);
    start += 1;
  }
}

/**
 * OrderCreated → hold every item, all or nothing; never more than is available. Orders are
 * served in the order their events came.
 */
async function reserve(tx: Tx, events: readonly EventEnvelope[]): Promise<void> {
  const orders = events.map((event) => {
    const { order_id, items } = OrderCreated.payloadOf(event);
    return { event, order_id, lines: mergeLines(items) };
  });
  // Its cancellation was handled first (a retried OrderCreated arrived late): hold nothing.
  const closed = await repo.closedAmong(tx.db, orders.map((order) => order.order_id));
  const open = orders.filter((order) => !closed.has(order.order_id.toLowerCase()));
  if (open.length === 0) return;
  const levels = await repo.lockStock(tx.db, [...new Set(open.flatMap((order) => order.lines.map((line) => line.product_id)))]);
  const held: typeof open = [];
  for (const { order, shortages } of reserveInTurn(levels, open)) {
    if (shortages.length > 0) {
      tx.publish(StockReservationFailed, { order_id: order.order_id, reason: 'insufficient_stock', shortages }, order.event);
      continue;
    }
    held.push(order);
    tx.publish(StockReserved, { order_id: order.order_id, items: order.lines }, order.event);
  }
  await repo.moveQuantities(tx.db, mergeLines(held.flatMap((order) => order.lines)), { reserved: 1, stock: 0 });
  await repo.insertReservations(tx.db, held, randomUUID);
}

/**
 * ReviewPosted → the rating and one review added to the product's summary; ReviewRemoved → taken
 * out. Only additions to a stored sum, so no lock on an entity is needed (`serializeOn`): the
 * events commute, and a removal handled before its posting leaves the summary right once both
 * are in. One statement for the batch; several products are locked first in id order, the one
 * lock order of the products' rows, so this never deadlocks with a reservation.
 */
async function rate(tx: Tx, events: readonly EventEnvelope[]): Promise<void> {
  const changes = events.flatMap((event): repo.RatingChange[] => {
    if (event.type === ReviewPosted.type) {
      const { product_id, rating } = ReviewPosted.payloadOf(event);
      return [{ product_id, rating, count: 1 }];
    }
    if (event.type === ReviewRemoved.type) {
      const { product_id, rating } = ReviewRemoved.payloadOf(event);
      return [{ product_id, rating: -rating, count: -1 }];
    }
    return [];
  });
  const products = [...new Set(changes.map((change) => change.product_id.toLowerCase()))];
  if (products.length > 1) await repo.lockStock(tx.db, products);
  await repo.changeRatings(tx.db, changes);
}

/** OrderCancelled → give back what the order holds. */
async function release(tx: Tx, event: EventEnvelope): Promise<void> {
  const { order_id } = OrderCancelled.payloadOf(event);
  await repo.markOrderClosed(tx.db, order_id);
  await settle(tx, event, order_id, 'released');
}

/** OrderShipped → the held stock leaves for good (on hand and reserved both drop). */
async function commit(tx: Tx, event: EventEnvelope): Promise<void> {
  await settle(tx, event, OrderShipped.payloadOf(event).order_id, 'committed');
}

async function settle(tx: Tx, cause: EventEnvelope, orderId: string, status: 'released' | 'committed'): Promise<void> {
  const held = mergeLines(await repo.closeReservations(tx.db, orderId, status));
  if (held.length === 0) return;
  await repo.lockStock(tx.db, held.map((line) => line.product_id));
  await repo.moveQuantities(tx.db, held, { reserved: -1, stock: status === 'committed' ? -1 : 0 });
  if (status === 'released') tx.publish(StockReleased, { order_id: orderId, items: held }, cause);
}
