import { StockReservationFailed } from '@shop/inventory-contract';
import type { Subscription, UnitOfWork } from '@shop/platform';
import type { OrdersService } from './service.ts';

export const CONSUMER = 'orders';

/** The saga steps orders owns: out of stock → cancel. (Payment capture → confirm comes with payments.) */
export function ordersSubscriptions(uow: UnitOfWork, service: OrdersService): Subscription[] {
  return [
    {
      consumer: CONSUMER,
      events: [StockReservationFailed.type],
      handle: async (event) => {
        const { order_id, reason } = StockReservationFailed.payloadOf(event);
        await uow.handleOnce(CONSUMER, event, async (tx) => {
          await service.cancelIfOpen(tx, order_id, reason);
        });
      },
    },
  ];
}
