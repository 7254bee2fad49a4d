import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '@shop/contract-kit';
import { StockReleased, StockReservationFailed, StockReserved } from '@shop/inventory-contract';
import { OrderCancelled, OrderCreated, OrderShipped } from '@shop/orders-contract';
import type { Subscription, Tx, UnitOfWork } from '@shop/platform';
import { mergeLines, shortagesFor } from './domain.ts';
import * as repo from './repository.ts';

export const CONSUMER = 'inventory';

/**
 * The saga steps inventory owns. Each runs once per event (inbox), in one transaction with
 * the events it publishes (outbox).
 */
export function inventorySubscriptions(uow: UnitOfWork): Subscription[] {
  return [
    {
      consumer: CONSUMER,
      events: [OrderCreated.type, OrderCancelled.type, OrderShipped.type],
      handle: (event) => handle(uow, event),
    },
  ];
}

async function handle(uow: UnitOfWork, event: EventEnvelope): Promise<void> {
  switch (event.type) {
    case OrderCreated.type:
      return void (await reserve(uow, event));
    case OrderCancelled.type:
      return void (await release(uow, event));
    case OrderShipped.type:
      return void (await commit(uow, event));
  }
}

/** OrderCreated → hold every item, all or nothing; never more than is available. */
function reserve(uow: UnitOfWork, event: EventEnvelope) {
  const order = OrderCreated.payloadOf(event);
  return uow.handleOnce(CONSUMER, event, async (tx) => {
    // Its cancellation was handled first (a retried OrderCreated arrived late): hold nothing.
    if (await repo.isOrderClosed(tx.db, order.order_id)) return;
    const lines = mergeLines(order.items);
    const levels = await repo.lockStock(tx.db, lines.map((line) => line.product_id));
    const shortages = shortagesFor(levels, lines);
    if (shortages.length > 0) {
      tx.publish(StockReservationFailed, { order_id: order.order_id, reason: 'insufficient_stock', shortages });
      return;
    }
    await repo.moveQuantities(tx.db, lines, { reserved: 1, stock: 0 });
    await repo.insertReservations(tx.db, order.order_id, lines, randomUUID);
    tx.publish(StockReserved, { order_id: order.order_id, items: lines });
  });
}

/** OrderCancelled → give back what the order holds. */
function release(uow: UnitOfWork, event: EventEnvelope) {
  const { order_id } = OrderCancelled.payloadOf(event);
  return uow.handleOnce(CONSUMER, event, async (tx) => {
    await repo.markOrderClosed(tx.db, order_id);
    await settle(tx, order_id, 'released');
  });
}

/** OrderShipped → the held stock leaves for good (on hand and reserved both drop). */
function commit(uow: UnitOfWork, event: EventEnvelope) {
  const { order_id } = OrderShipped.payloadOf(event);
  return uow.handleOnce(CONSUMER, event, async (tx) => {
    await settle(tx, order_id, 'committed');
  });
}

async function settle(tx: Tx, orderId: string, status: 'released' | 'committed') {
  const held = mergeLines(await repo.closeReservations(tx.db, orderId, status));
  if (held.length === 0) return;
  await repo.lockStock(tx.db, held.map((line) => line.product_id));
  await repo.moveQuantities(tx.db, held, { reserved: -1, stock: status === 'committed' ? -1 : 0 });
  if (status === 'released') tx.publish(StockReleased, { order_id: orderId, items: held });
}
