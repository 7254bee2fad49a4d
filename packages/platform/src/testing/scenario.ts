import { randomUUID } from 'node:crypto';
import type { Static, TSchema } from 'typebox';
import type { EventEnvelope, EventSpec } from '@shop/contract-kit';
import type { RecordingBus } from './recording-bus.ts';

const DEFAULT_TIMEOUT_MS = 5_000;

/** What a stimulus produced: its own result, and the event a test waited for. */
export interface Outcome<T, P> {
  readonly result: T;
  readonly payload: P;
  readonly event: EventEnvelope<P>;
}

/**
 * Module tests that read like scenarios (after Spring Modulith's `Scenario`): stimulate a
 * module (call its interface, or hand it an event), then wait for the event it publishes in
 * reaction, or for a state it reaches.
 *
 *   await scenario
 *     .stimulate(() => orders.createOrder(command))
 *     .andWaitForEvent(OrderCreated, (event, { order }) => event.order_id === order.id);
 */
export class Scenario {
  readonly #bus: RecordingBus;

  constructor(bus: RecordingBus) {
    this.#bus = bus;
  }

  /** Runs `stimulus` (a call on a module's interface) and returns what to wait for next. */
  stimulate<T>(stimulus: () => Promise<T>): Stimulus<T> {
    return new Stimulus(this.#bus, stimulus);
  }

  /** Publishes an event as another module would, delivering it to its consumers. */
  publish<S extends TSchema>(spec: EventSpec<S>, payload: Static<S>, source = 'scenario'): Stimulus<EventEnvelope<Static<S>>> {
    const event = envelope(spec, payload, source);
    return new Stimulus(this.#bus, async () => {
      await this.#bus.publish(event);
      return event;
    });
  }

  /**
   * Publishes several events at once, as the outbox dispatcher hands over its claimed batch;
   * resolves with the events and each one's delivery outcome.
   */
  publishBatch<S extends TSchema>(spec: EventSpec<S>, payloads: readonly Static<S>[], source = 'scenario'): Stimulus<{ events: EventEnvelope<Static<S>>[]; outcomes: PromiseSettledResult<void>[] }> {
    const events = payloads.map((payload) => envelope(spec, payload, source));
    return new Stimulus(this.#bus, async () => ({ events, outcomes: await this.#bus.publishBatch(events) }));
  }

  /** Delivers an already published event once more, as a broker redelivery would. */
  redeliver(event: EventEnvelope): Promise<void> {
    return this.#bus.publish(event);
  }

  /** The events of this type published so far (all of them, this scenario's or not). */
  eventsOf<S extends TSchema>(spec: EventSpec<S>, match: (payload: Static<S>) => boolean = () => true): Static<S>[] {
    return this.#bus.published.filter((event) => event.type === spec.type).map((event) => event.payload as Static<S>).filter(match);
  }
}

export class Stimulus<T> {
  readonly #bus: RecordingBus;
  readonly #stimulus: () => Promise<T>;

  constructor(bus: RecordingBus, stimulus: () => Promise<T>) {
    this.#bus = bus;
    this.#stimulus = stimulus;
  }

  /** Resolves with the first matching event published after the stimulus began. */
  async andWaitForEvent<S extends TSchema>(
    spec: EventSpec<S>,
    match: (payload: Static<S>, result: T) => boolean = () => true,
    timeoutMs = DEFAULT_TIMEOUT_MS,
  ): Promise<Outcome<T, Static<S>>> {
    const seen: EventEnvelope[] = [];
    const stopListening = this.#bus.listen((event) => seen.push(event));
    try {
      const result = await this.#stimulus();
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = seen.find((event) => event.type === spec.type && match(event.payload as Static<S>, result));
        if (found) return { result, payload: found.payload as Static<S>, event: found as EventEnvelope<Static<S>> };
        if (Date.now() > deadline) {
          const types = seen.map((event) => event.type).join(', ') || 'none';
          throw new Error(`no matching ${spec.type} within ${timeoutMs} ms (events seen: ${types})`);
        }
        await sleep(10);
      }
    } finally {
      stopListening();
    }
  }

  /** Resolves once no event of this type matches for `quietMs` after the stimulus settled. */
  async andExpectNoEvent<S extends TSchema>(
    spec: EventSpec<S>,
    match: (payload: Static<S>, result: T) => boolean = () => true,
    quietMs = 300,
  ): Promise<T> {
    const seen: EventEnvelope[] = [];
    const stopListening = this.#bus.listen((event) => seen.push(event));
    try {
      const result = await this.#stimulus();
      await sleep(quietMs);
      const found = seen.find((event) => event.type === spec.type && match(event.payload as Static<S>, result));
      if (found) throw new Error(`expected no ${spec.type}, but one was published: ${JSON.stringify(found.payload)}`);
      return result;
    } finally {
      stopListening();
    }
  }

  /** Resolves once `probe` (e.g. a read of the module's state) returns a value `until` accepts. */
  async andWaitForStateChange<V>(probe: () => Promise<V>, until: (value: V) => boolean = Boolean, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<{ result: T; value: V }> {
    const result = await this.#stimulus();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (until(value)) return { result, value };
      if (Date.now() > deadline) throw new Error(`state did not change within ${timeoutMs} ms (last: ${JSON.stringify(value)})`);
      await sleep(10);
    }
  }
}

function envelope<S extends TSchema>(spec: EventSpec<S>, payload: Static<S>, source: string): EventEnvelope<Static<S>> {
  return { id: randomUUID(), type: spec.type, version: spec.version, source, occurred_at: new Date().toISOString(), payload };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
