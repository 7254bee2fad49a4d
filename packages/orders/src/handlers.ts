import { StockReservationFailed } from '@shop/inventory-contract';
import { PaymentCaptured } from '@shop/payments-contract';
import type { Subscription, UnitOfWork } from '@shop/platform';
import type { OrdersService } from './service.ts';

export const CONSUMER = 'orders';

/**
 * The saga steps orders owns: out of stock → cancel; payment captured → confirm. A capture
 * that lands on an order cancelled meanwhile changes nothing here: payments sees the
 * cancellation too and refunds.
 */
export function ordersSubscriptions(uow: UnitOfWork, service: OrdersService): Subscription[] {
  return [
    {
      consumer: CONSUMER,
      events: [StockReservationFailed.type, PaymentCaptured.type],
      handle: async (event) => {
        await uow.handleOnce(CONSUMER, event, async (tx) => {
          if (event.type === StockReservationFailed.type) {
            const { order_id, reason } = StockReservationFailed.payloadOf(event);
            await service.cancelIfOpen(tx, order_id, reason);
          } else {
            await service.confirmIfPending(tx, PaymentCaptured.payloadOf(event).order_id);
          }
        });
      },
    },
  ];
}
