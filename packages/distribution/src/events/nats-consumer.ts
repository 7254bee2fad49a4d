import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { EventEnvelope } from '@shop/contract-kit';
import type { Logger } from 'pino';
import { handleEvents } from '@shop/platform/internals';
import type { Subscription } from '@shop/platform';
import type { ConsumerSettings } from './nats-topology.ts';

/**
 * Messages pulled ahead per process. Handled one at a time, so a prefetched message waits for
 * those before it while its ack wait runs: kept small, so it is not redelivered elsewhere just
 * for waiting here (harmless thanks to the inbox, but wasted work).
 */
const PREFETCH = 10;

export interface ConsumerStats {
  readonly consumer: string;
  readonly pending: number;
  readonly ack_pending: number;
  readonly redelivered: number;
}

/**
 * Pulls one durable consumer's messages and hands them to its subscriptions, one at a time.
 * A message is acked only after its handler resolved (the handler committed its inbox row),
 * so a crash anywhere before that means redelivery, never loss.
 */
export class ConsumerLoop {
  readonly #name: string;
  readonly #handlers: ReadonlyMap<string, Subscription>;
  readonly #js: JetStreamClient;
  readonly #ensure: () => Promise<void>;
  readonly #logger: Logger;
  readonly #settings: ConsumerSettings;
  #messages: ConsumerMessages | undefined;
  #running: Promise<void> | undefined;
  #stopping = false;
  #wake: (() => void) | undefined;

  constructor(deps: { name: string; handlers: ReadonlyMap<string, Subscription>; js: JetStreamClient; ensure: () => Promise<void>; logger: Logger; settings: ConsumerSettings }) {
    this.#name = deps.name;
    this.#handlers = deps.handlers;
    this.#js = deps.js;
    this.#ensure = deps.ensure;
    this.#logger = deps.logger.child({ consumer: deps.name });
    this.#settings = deps.settings;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  /** What the broker holds for this consumer: not yet delivered, delivered and not acked, and redelivered so far. */
  async stats(): Promise<ConsumerStats> {
    const info = await (await this.#js.consumers.get(this.#settings.stream, this.#name)).info(true);
    return { consumer: this.#name, pending: info.num_pending, ack_pending: info.num_ack_pending, redelivered: info.num_redelivered };
  }

  /** Stops pulling, hands prefetched messages back, and waits for the handler under way. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#messages?.close();
    await this.#running;
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopping) {
      try {
        // After a failure the consumer (or the stream) may be gone: the server lost its state, or someone deleted it.
        if (failures > 0) await this.#ensure();
        const consumer = await this.#js.consumers.get(this.#settings.stream, this.#name);
        const messages = await consumer.consume({ max_messages: PREFETCH });
        this.#messages = messages;
        if (this.#stopping) await messages.close();
        void this.#watch(messages);
        for await (const msg of messages) {
          failures = 0;
          await this.#deliver(msg);
        }
        if (!this.#stopping) throw new Error('the message stream ended');
      } catch (error) {
        if (this.#stopping) break;
        failures += 1;
        this.#logger.warn({ err: error, failures }, 'consuming from NATS failed; starting again');
        await this.#pause(Math.min(250 * 2 ** failures, 5_000));
      }
    }
  }

  /** The client keeps pulling from a consumer that vanished; end the iteration so `#run` recreates it. */
  async #watch(messages: ConsumerMessages): Promise<void> {
    for await (const status of messages.status()) {
      if (status.type === 'consumer_deleted' || status.type === 'consumer_not_found' || status.type === 'stream_not_found') {
        messages.stop(new Error(`consumer ${this.#name}: ${status.type}`));
      }
    }
  }

  async #deliver(msg: JsMsg): Promise<void> {
    // Prefetched but not started when stop() came: back to the server now, for another process.
    if (this.#stopping) return msg.nak();
    const event = parseEnvelope(msg);
    if (!event) {
      // Redelivering it would never help: drop it for good, loudly.
      this.#logger.error({ subject: msg.subject, stream_seq: msg.seq, data: msg.string().slice(0, 500) }, 'not an event envelope; terminated');
      return msg.term(); // no reason: servers before 2.10.4 do not understand one
    }
    const subscription = this.#handlers.get(event.type);
    // Only when the server could not filter for us (several types before NATS 2.10): not ours.
    if (!subscription) return msg.ack();
    // Tells the server the handler is still at work, so a slow one is not redelivered meanwhile.
    const keepAlive = setInterval(() => msg.working(), Math.max(this.#settings.ackWaitMs / 3, 100));
    try {
      await handleEvents(subscription.consumer, [event], () => subscription.handle(event));
      msg.ack();
    } catch (error) {
      this.#retryLater(msg, event, error);
    } finally {
      clearInterval(keepAlive);
    }
  }

  #retryLater(msg: JsMsg, event: EventEnvelope, error: unknown): void {
    const attempt = msg.info.deliveryCount;
    const context = { err: error, event_id: event.id, event_type: event.type, attempt };
    const { maxDeliver, retryBaseMs, retryMaxMs } = this.#settings;
    if (maxDeliver > 0 && attempt >= maxDeliver) {
      this.#logger.error(context, 'event handler failed for the last allowed time; event dropped for this consumer');
      return msg.term();
    }
    const delayMs = Math.min(retryBaseMs * 2 ** (attempt - 1), retryMaxMs);
    this.#logger.warn({ ...context, retry_in_ms: delayMs }, 'event handler failed; will be redelivered');
    msg.nak(delayMs);
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function parseEnvelope(msg: JsMsg): EventEnvelope | undefined {
  let value: unknown;
  try {
    value = JSON.parse(msg.string());
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const e = value as Record<string, unknown>;
  const valid =
    typeof e.id === 'string' &&
    typeof e.type === 'string' &&
    typeof e.version === 'number' &&
    typeof e.source === 'string' &&
    typeof e.occurred_at === 'string' &&
    'payload' in e &&
    (e.traceparent === undefined || typeof e.traceparent === 'string');
  return valid ? (value as EventEnvelope) : undefined;
}
