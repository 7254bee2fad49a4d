import { StockReservationFailed } from '@shop/inventory-contract';
import { PaymentCaptured } from '@shop/payments-contract';
import { inboxSubscription, type Subscription, type UnitOfWork } from '@shop/platform';
import type { OrdersService } from './service.ts';

export const CONSUMER = 'orders';

/**
 * The saga steps orders owns: out of stock → cancel; payment captured → confirm. A capture
 * that lands on an order cancelled meanwhile changes nothing here: payments sees the
 * cancellation too and refunds.
 */
export function ordersSubscriptions(uow: UnitOfWork, service: OrdersService): Subscription[] {
  return [
    inboxSubscription(uow, {
      consumer: CONSUMER,
      events: [StockReservationFailed.type, PaymentCaptured.type],
      serializeOn: { entity: 'order', idOf: (event) => (event.payload as { order_id: string }).order_id },
      effect: async (tx, fresh) => {
        for (const event of fresh) {
          if (event.type === StockReservationFailed.type) {
            const { order_id, reason } = StockReservationFailed.payloadOf(event);
            await service.cancelIfOpen(tx, order_id, reason);
          } else {
            await service.confirmIfPending(tx, PaymentCaptured.payloadOf(event).order_id);
          }
        }
      },
    }),
  ];
}
