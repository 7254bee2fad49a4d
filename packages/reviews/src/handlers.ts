import { OrderDelivered, OrderDeliveredV1 } from '@shop/orders-contract';
import { inboxSubscription, type Logger, type Subscription, type UnitOfWork } from '@shop/platform';
import { purchasedProducts } from './domain.ts';
import * as repo from './repository.ts';

export const CONSUMER = 'reviews';

/**
 * Who bought what, from orders' events: a delivered order's items become the customer's verified
 * purchases. `OrderDelivered` version 2 carries the items; a version 1 event (an outbox row or a
 * stream written before orders was upgraded) names no items, so it records nothing rather than
 * guessing, and says so.
 */
export function reviewsSubscriptions(uow: UnitOfWork, logger: Logger): Subscription[] {
  return [
    inboxSubscription(uow, {
      consumer: CONSUMER,
      events: [OrderDelivered.type],
      effect: async (tx, fresh) => {
        for (const event of fresh) {
          if (!OrderDelivered.canRead(event)) {
            const { order_id } = OrderDeliveredV1.payloadOf(event);
            logger.warn({ order_id, event_id: event.id, version: event.version }, 'OrderDelivered without items (version 1): no purchase recorded for this order');
            continue;
          }
          const delivered = OrderDelivered.payloadOf(event);
          await repo.recordPurchases(tx.db, {
            customer_id: delivered.customer_id.toLowerCase(),
            order_id: delivered.order_id,
            delivered_at: new Date(event.occurred_at),
            product_ids: purchasedProducts(delivered.items),
          });
        }
      },
    }),
  ];
}
