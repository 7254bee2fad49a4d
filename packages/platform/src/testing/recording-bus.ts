import type { EventEnvelope } from '@shop/contract-kit';
import type { EventBus, Subscription } from '../events/bus.ts';
import { InProcessBus } from '../events/in-process-bus.ts';

/**
 * An in-process bus that also remembers every event handed to it, so a test can wait for
 * what a module published. It delivers exactly as the real in-process bus does.
 */
export class RecordingBus implements EventBus {
  readonly #inner: EventBus;
  readonly #published: EventEnvelope[] = [];
  readonly #listeners = new Set<(event: EventEnvelope) => void>();

  constructor(inner: EventBus = new InProcessBus()) {
    this.#inner = inner;
  }

  /** Every event published so far, oldest first. */
  get published(): readonly EventEnvelope[] {
    return this.#published;
  }

  /** Calls `listener` for every event from now on; returns how to stop listening. */
  listen(listener: (event: EventEnvelope) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  subscribe(subscription: Subscription): void {
    this.#inner.subscribe(subscription);
  }

  async publish(event: EventEnvelope): Promise<void> {
    this.#record([event]);
    await this.#inner.publish(event);
  }

  /** The outbox dispatcher's path: recorded, then handed over as the inner bus hands a batch over. */
  async publishBatch(events: readonly EventEnvelope[]): Promise<PromiseSettledResult<void>[]> {
    this.#record(events);
    return this.#inner.publishBatch(events);
  }

  // Recorded before delivery: a consumer's reaction is never seen before its cause.
  #record(events: readonly EventEnvelope[]): void {
    for (const event of events) {
      this.#published.push(event);
      for (const listener of this.#listeners) listener(event);
    }
  }

  start(): Promise<void> {
    return this.#inner.start();
  }

  stop(): Promise<void> {
    return this.#inner.stop();
  }
}
