import type { EventEnvelope } from '@shop/contract-kit';
import { runInEventContext } from '../remote/request-context.ts';
import type { EventBus, Subscription } from './bus.ts';

/**
 * Delivers an event to every subscriber in this process, each in turn. If any subscriber
 * fails, `publish` rejects and the outbox retries the event later; the subscribers that
 * already handled it skip it then, thanks to their inbox.
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
    const failures: string[] = [];
    for (const subscription of this.#byType.get(event.type) ?? []) {
      try {
        await runInEventContext(event, () => subscription.handle(event));
      } catch (error) {
        failures.push(`${subscription.consumer}: ${(error as Error).message}`);
      }
    }
    if (failures.length > 0) throw new Error(`delivery of ${event.type} ${event.id} failed (${failures.join('; ')})`);
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}
}
