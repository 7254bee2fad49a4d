import type { EventEnvelope } from '@shop/contract-kit';
import { OrderCancelled, OrderConfirmed, OrderShipped } from '@shop/orders-contract';
import { inboxSubscription, type Subscription, type UnitOfWork } from '@shop/platform';
import type { NotificationsService, OrderEventPayload } from './service.ts';

export const CONSUMER = 'notifications';

const SPECS = [OrderConfirmed, OrderCancelled, OrderShipped];

/**
 * Order events → notifications queued, once per event (inbox). Nothing is sent here: the
 * sender is kicked after the commit, so the bus never waits on a mail server.
 */
export function notificationsSubscriptions(uow: UnitOfWork, service: NotificationsService, kickSender: () => void): Subscription[] {
  return [
    inboxSubscription(uow, {
      consumer: CONSUMER,
      events: SPECS.map((spec) => spec.type),
      effect: async (tx, fresh) => {
        let queued = 0;
        for (const event of fresh) queued += await service.recordForEvent(tx, event, payloadOf(event));
        if (queued > 0) tx.afterCommit(kickSender);
      },
    }),
  ];
}

function payloadOf(event: EventEnvelope): OrderEventPayload {
  const spec = SPECS.find((candidate) => candidate.type === event.type);
  if (!spec) throw new Error(`notifications does not handle ${event.type}`);
  return spec.payloadOf(event) as OrderEventPayload;
}
