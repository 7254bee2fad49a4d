import type { Subscription, UnitOfWork } from '@shop/platform';

export const CONSUMER = 'reviews';

/**
 * The events reviews consumes: none yet. To react to another module's event, depend on its
 * contract (package.json) and return an `inboxSubscription(uow, { consumer: CONSUMER, events,
 * effect })`: the kernel delivers each event once, in process or over NATS, metered and traced.
 */
export function reviewsSubscriptions(_uow: UnitOfWork): Subscription[] {
  return [];
}
