import type { EventEnvelope } from '@shop/contract-kit';
import type { Subscription } from './bus.ts';
import type { SerializeOn, Tx, UnitOfWork } from './unit-of-work.ts';

/**
 * A subscription whose effect runs through the consumer's inbox (`UnitOfWork.handleEachOnce`),
 * the same code for one event (over NATS) and for a batch (the in-process bus): the effect gets
 * the events not handled before, in order, and does their SQL together.
 *
 * `serializeOn` names the entity each event is about (e.g. its order): the transaction locks
 * those entities before anything else, so two replicas handling events about the same entity
 * (an order's creation here, its cancellation there) take turns, and each sees what the
 * other committed. Every consumer whose decision reads state another event may change needs it.
 */
export function inboxSubscription(
  uow: UnitOfWork,
  spec: {
    consumer: string;
    events: readonly string[];
    effect: (tx: Tx, fresh: readonly EventEnvelope[]) => Promise<void>;
    serializeOn?: SerializeOn;
  },
): Subscription {
  const handleBatch = (events: readonly EventEnvelope[]) => uow.handleEachOnce(spec.consumer, events, spec.effect, spec.serializeOn);
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
