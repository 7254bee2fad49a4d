import type { EventEnvelope } from '@shop/contract-kit';

/** A module's interest in events: its name (one inbox and, over NATS, one durable consumer each) and handler. */
export interface Subscription {
  readonly consumer: string;
  readonly events: readonly string[];
  /** Must be idempotent (it runs through the consumer's inbox); throwing means "retry later". */
  handle(event: EventEnvelope): Promise<void>;
  /**
   * Optional: several events at once, in the order given (the in-process bus hands over the
   * outbox dispatcher's whole claimed batch). Resolves with one outcome per event, in the same
   * order, and never rejects for an event's failure. `UnitOfWork.handleEachOnce` is made for it.
   */
  handleBatch?(events: readonly EventEnvelope[]): Promise<PromiseSettledResult<void>[]>;
}

/**
 * Where the outbox dispatcher hands events, and where modules subscribe. In one process the
 * bus calls subscribers directly; between processes it is NATS JetStream. Modules see only
 * this interface, so they never know which.
 */
export interface EventBus {
  subscribe(subscription: Subscription): void;
  /** Resolves once the event is safely handed over (handled in process, or stored by the broker). */
  publish(event: EventEnvelope): Promise<void>;
  /**
   * Hands over several events (the outbox dispatcher's claimed batch), in the order given, and
   * resolves with one outcome per event, in the same order; never rejects for an event's failure,
   * and a later event may be handled or stored even though an earlier one failed. A broker sends
   * them all before awaiting the acknowledgements; the in-process bus gives each subscriber its
   * share at once.
   */
  publishBatch(events: readonly EventEnvelope[]): Promise<PromiseSettledResult<void>[]>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
