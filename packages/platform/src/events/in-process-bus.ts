import type { EventEnvelope } from '@shop/contract-kit';
import { handleEvents } from '../telemetry/tracing.ts';
import type { EventBus, Subscription } from './bus.ts';

/**
 * Delivers events to every subscriber in this process. If any subscriber fails an event, its
 * outcome is a failure and the outbox retries it later; the subscribers that already handled it
 * skip it then, thanks to their inbox.
 *
 * The outbox hands over its whole claimed batch: each subscriber gets its share of it at once
 * (`handleBatch`, one transaction for the lot), or one event at a time if it handles only one.
 * Subscribers are independent of each other (each its own module and inbox), so the order that
 * matters is the events' order within each subscriber, and that is kept.
 */
export class InProcessBus implements EventBus {
  readonly #byType = new Map<string, Subscription[]>();

  subscribe(subscription: Subscription): void {
    for (const type of subscription.events) {
      const list = this.#byType.get(type) ?? [];
      if (list.some((existing) => existing.consumer === subscription.consumer)) {
        throw new Error(`consumer ${subscription.consumer} already subscribes to ${type}`);
      }
      list.push(subscription);
      this.#byType.set(type, list);
    }
  }

  async publish(event: EventEnvelope): Promise<void> {
    const [outcome] = await this.publishBatch([event]);
    if (outcome?.status === 'rejected') throw outcome.reason;
  }

  async publishBatch(events: readonly EventEnvelope[]): Promise<PromiseSettledResult<void>[]> {
    const shares = new Map<Subscription, number[]>();
    events.forEach((event, index) => {
      for (const subscription of this.#byType.get(event.type) ?? []) {
        const share = shares.get(subscription) ?? [];
        share.push(index);
        shares.set(subscription, share);
      }
    });
    const failures = events.map((): string[] => []);
    for (const [subscription, share] of shares) {
      const outcomes = await deliver(subscription, share.map((index) => events[index]!));
      share.forEach((index, k) => {
        const outcome = outcomes[k];
        if (outcome?.status !== 'fulfilled') failures[index]!.push(`${subscription.consumer}: ${messageOf(outcome)}`);
      });
    }
    return events.map((event, index) =>
      failures[index]!.length === 0
        ? { status: 'fulfilled', value: undefined }
        : { status: 'rejected', reason: new Error(`delivery of ${event.type} ${event.id} failed (${failures[index]!.join('; ')})`) },
    );
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}
}

async function deliver(subscription: Subscription, events: EventEnvelope[]): Promise<PromiseSettledResult<void>[]> {
  if (subscription.handleBatch) {
    try {
      return await handleEvents(subscription.consumer, events, () => subscription.handleBatch!(events));
    } catch (error) {
      // A handler that broke its promise not to reject: every event of its share failed.
      return events.map(() => ({ status: 'rejected', reason: error }));
    }
  }
  const outcomes: PromiseSettledResult<void>[] = [];
  for (const event of events) {
    try {
      await handleEvents(subscription.consumer, [event], () => subscription.handle(event));
      outcomes.push({ status: 'fulfilled', value: undefined });
    } catch (error) {
      outcomes.push({ status: 'rejected', reason: error });
    }
  }
  return outcomes;
}

function messageOf(outcome: PromiseSettledResult<void> | undefined): string {
  if (!outcome) return 'no outcome reported';
  const reason: unknown = outcome.status === 'rejected' ? outcome.reason : undefined;
  return reason instanceof Error ? reason.message : String(reason);
}
