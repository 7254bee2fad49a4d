import { OrderCancelled } from '@shop/orders-contract';
import type { Subscription, UnitOfWork } from '@shop/platform';
import type { StoredPayment } from './repository.ts';
import type { Settlement } from './settlement.ts';

export const CONSUMER = 'payments';

/**
 * The saga step payments owns: a cancelled order gets its captured payment back, at most once.
 * The decision (order closed, refund requested) commits with the inbox row; the provider is
 * called after commit, in the background, so orders' event delivery never waits on the
 * provider. A crash in between is finished by the reconciler.
 */
export function paymentsSubscriptions(uow: UnitOfWork, settlement: Settlement): Subscription[] {
  return [
    {
      consumer: CONSUMER,
      events: [OrderCancelled.type],
      handle: async (event) => {
        const { order_id } = OrderCancelled.payloadOf(event);
        let toRefund: StoredPayment[] = [];
        await uow.handleOnce(CONSUMER, event, async (tx) => {
          toRefund = await settlement.closeOrder(tx, order_id.toLowerCase());
        });
        for (const payment of toRefund) settlement.refundInBackground(payment);
      },
    },
  ];
}
