import { OrderCancelled } from '@shop/orders-contract';
import { inboxSubscription, type Subscription, type UnitOfWork } from '@shop/platform';
import type { Settlement } from './settlement.ts';

export const CONSUMER = 'payments';

/**
 * The saga step payments owns: a cancelled order gets its captured payment back, at most once.
 * The decision (order closed, refund requested) commits with the inbox row; the provider is
 * called after commit, in the background, so orders' event delivery never waits on the
 * provider. A crash in between is finished by the reconciler. The order is locked first, so a
 * payment settling on another replica either sees it closed or is seen captured here.
 */
export function paymentsSubscriptions(uow: UnitOfWork, settlement: Settlement): Subscription[] {
  return [
    inboxSubscription(uow, {
      consumer: CONSUMER,
      events: [OrderCancelled.type],
      serializeOn: { entity: 'order', idOf: (event) => OrderCancelled.payloadOf(event).order_id },
      effect: async (tx, fresh) => {
        for (const event of fresh) {
          const toRefund = await settlement.closeOrder(tx, OrderCancelled.payloadOf(event).order_id.toLowerCase());
          tx.afterCommit(() => toRefund.forEach((payment) => settlement.refundInBackground(payment)));
        }
      },
    }),
  ];
}
