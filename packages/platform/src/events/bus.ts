import type { EventEnvelope } from '@shop/contract-kit';

/** A module's interest in events: its name (one inbox and, over NATS, one durable consumer each) and handler. */
export interface Subscription {
  readonly consumer: string;
  readonly events: readonly string[];
  /** Must be idempotent (it runs through the consumer's inbox); throwing means "retry later". */
  handle(event: EventEnvelope): Promise<void>;
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
  start(): Promise<void>;
  stop(): Promise<void>;
}
