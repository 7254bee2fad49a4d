import type { EventEnvelope } from '@shop/contract-kit';
import type { Subscription } from './bus.ts';
import type { Tx, UnitOfWork } from './unit-of-work.ts';

/**
 * A subscription whose effect runs through the consumer's inbox (`UnitOfWork.handleEachOnce`),
 * the same code for one event (over NATS) and for a batch (the in-process bus): the effect gets
 * the events not handled before, in order, and does their SQL together.
 */
export function inboxSubscription(
  uow: UnitOfWork,
  spec: { consumer: string; events: readonly string[]; effect: (tx: Tx, fresh: readonly EventEnvelope[]) => Promise<void> },
): Subscription {
  const handleBatch = (events: readonly EventEnvelope[]) => uow.handleEachOnce(spec.consumer, events, spec.effect);
  return {
    consumer: spec.consumer,
    events: spec.events,
    handleBatch,
    async handle(event) {
      const [outcome] = await handleBatch([event]);
      if (outcome?.status === 'rejected') throw outcome.reason;
    },
  };
}
