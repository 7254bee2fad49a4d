import { DiscardPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import type { EventEnvelope } from '@shop/contract-kit';
import type { Logger } from 'pino';
import type { EventBus, Subscription } from './bus.ts';
import { ConsumerLoop, ensureDurableConsumer, type ConsumerSettings } from './nats-consumer.ts';

export interface NatsBusOptions {
  url: string;
  logger: Logger;
  /** JetStream stream holding every event. Default `SHOP_EVENTS`. */
  stream?: string;
  /** Events go to `<prefix>.<event type>`. Default `shop.events`. */
  subjectPrefix?: string;
  /** How long a delivered message may stay unacked before redelivery (handlers in progress extend it). */
  ackWaitMs?: number;
  /** Deliveries before an event is given up for a consumer; -1 (default): never. */
  maxDeliver?: number;
  maxAckPending?: number;
  /** Redelivery delay after a handler failed: doubles per delivery, up to `retryMaxMs`. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** How long `publish` waits for JetStream's acknowledgement. */
  publishTimeoutMs?: number;
  /** Republishing an event id within this window is dropped by the server. */
  duplicateWindowMs?: number;
  /** How long the stream keeps events (how long a consumer may be down without missing any). */
  retentionMs?: number;
  /** Connection name, shown in the server's monitoring. */
  name?: string;
}

const DAY_MS = 24 * 60 * 60_000;

/**
 * The event bus between processes: NATS JetStream. Each event is stored once in a stream; each
 * consumer (module) has one durable pull consumer, shared by every process hosting it, so each
 * event is handled by one of them. Publishing resolves only once JetStream stored the event;
 * a handled event is acked only after its handler committed. Nothing is lost when NATS or a
 * process restarts: unacked messages are redelivered, failed publishes stay in the outbox.
 */
export class NatsBus implements EventBus {
  readonly #options: Required<Omit<NatsBusOptions, 'name'>> & Pick<NatsBusOptions, 'name'>;
  readonly #logger: Logger;
  /** consumer name → event type → subscription. */
  readonly #consumers = new Map<string, Map<string, Subscription>>();
  readonly #loops: ConsumerLoop[] = [];
  #state: 'new' | 'starting' | 'started' | 'stopped' = 'new';
  #nc: NatsConnection | undefined;
  #js: JetStreamClient | undefined;
  #connected = false;
  #stopping: Promise<void> | undefined;

  constructor(options: NatsBusOptions) {
    this.#options = {
      stream: 'SHOP_EVENTS',
      subjectPrefix: 'shop.events',
      ackWaitMs: 30_000,
      maxDeliver: -1,
      maxAckPending: 1_000,
      retryBaseMs: 1_000,
      retryMaxMs: 5 * 60_000,
      publishTimeoutMs: 5_000,
      duplicateWindowMs: 2 * 60_000,
      retentionMs: 7 * DAY_MS,
      ...options,
    };
    this.#logger = options.logger.child({ component: 'nats-bus' });
  }

  subscribe(subscription: Subscription): void {
    if (this.#state !== 'new') throw new Error(`subscribe ${subscription.consumer} before the bus starts`);
    // The durable consumer is named after it, and durable names are a single subject token.
    if (!/^[A-Za-z0-9_-]+$/.test(subscription.consumer)) throw new Error(`consumer name ${JSON.stringify(subscription.consumer)} must match [A-Za-z0-9_-]+`);
    const handlers = this.#consumers.get(subscription.consumer) ?? new Map<string, Subscription>();
    for (const type of subscription.events) {
      if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(type)) throw new Error(`event type ${JSON.stringify(type)} cannot be a NATS subject`);
      if (handlers.has(type)) throw new Error(`consumer ${subscription.consumer} already subscribes to ${type}`);
      handlers.set(type, subscription);
    }
    this.#consumers.set(subscription.consumer, handlers);
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error(`the NATS bus is ${this.#state}; it starts only once`);
    this.#state = 'starting';
    try {
      const nc = await this.#connect();
      this.#nc = nc;
      this.#js = jetstream(nc, { timeout: this.#options.publishTimeoutMs });
      const jsm = await jetstreamManager(nc);
      await this.#ensureStream(jsm);
      for (const [name, handlers] of this.#consumers) {
        const ensure = () => this.#ensureStream(jsm).then(() => ensureDurableConsumer(jsm, name, this.#filterOf(nc, handlers), this.#settings()));
        await ensure();
        const loop = new ConsumerLoop({ name, handlers, js: this.#js, ensure, logger: this.#logger, settings: this.#settings() });
        this.#loops.push(loop);
        loop.start();
      }
      this.#state = 'started';
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  async publish(event: EventEnvelope): Promise<void> {
    if (this.#state !== 'started' || !this.#js) throw new Error(`the NATS bus is ${this.#state}, cannot publish ${event.type}`);
    // Fail at once while reconnecting: the outbox holds its batch in a transaction, and retries later anyway.
    if (!this.#connected) throw new Error(`NATS at ${this.#options.url} is not reachable (reconnecting)`);
    // msgID: a republish after a crash between this call and the outbox marking the row is dropped by the server.
    const ack = await this.#js.publish(this.#subjectOf(event.type), JSON.stringify(event), { msgID: event.id, timeout: this.#options.publishTimeoutMs });
    if (ack.duplicate) this.#logger.debug({ event_id: event.id, event_type: event.type }, 'event was already in the stream');
  }

  /** Stops consuming, lets the handlers under way finish, then drains and closes the connection. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#shutdown();
    return this.#stopping;
  }

  async #shutdown(): Promise<void> {
    this.#state = 'stopped';
    await Promise.all(this.#loops.map((loop) => loop.stop()));
    const nc = this.#nc;
    if (!nc || nc.isClosed()) return;
    // Drain flushes the acks just sent; it cannot complete while disconnected, so it is bounded.
    const drained = nc.drain().catch(() => undefined);
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
    if (!nc.isClosed()) await nc.close();
  }

  async #connect(): Promise<NatsConnection> {
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: this.#options.url,
        ...(this.#options.name ? { name: this.#options.name } : {}),
        timeout: 3_000,
        // Once connected, never give up: an outage must not need a process restart.
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
      });
    } catch (error) {
      throw new Error(`NATS at ${this.#options.url} is not reachable: ${(error as Error).message}`, { cause: error });
    }
    this.#connected = true;
    void this.#watchConnection(nc);
    return nc;
  }

  async #watchConnection(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        this.#connected = false;
        this.#logger.warn({ url: this.#options.url }, 'NATS connection lost; reconnecting');
      } else if (status.type === 'reconnect') {
        this.#connected = true;
        this.#logger.info({ url: this.#options.url }, 'NATS connection restored');
      }
    }
  }

  async #ensureStream(jsm: JetStreamManager): Promise<void> {
    const { stream, subjectPrefix } = this.#options;
    const subjects = `${subjectPrefix}.>`;
    let info = await jsm.streams.info(stream).catch(streamNotFoundAsUndefined);
    if (!info) {
      try {
        await jsm.streams.add({
          name: stream,
          subjects: [subjects],
          // File storage: events survive a NATS restart. Limits retention: every consumer, even one
          // created later or down for a while, reads the whole retained history (its inbox skips repeats).
          storage: StorageType.File,
          retention: RetentionPolicy.Limits,
          discard: DiscardPolicy.Old,
          max_age: nanos(this.#options.retentionMs),
          duplicate_window: nanos(this.#options.duplicateWindowMs),
        });
        return;
      } catch (error) {
        // Another process may have created it a moment ago.
        info = await jsm.streams.info(stream).catch(streamNotFoundAsUndefined);
        if (!info) throw error;
      }
    }
    // An existing stream is left as operators tuned it, as long as it carries our subjects.
    if (!info.config.subjects?.includes(subjects)) {
      throw new Error(`NATS stream ${stream} exists but does not hold subjects ${subjects} (it has ${info.config.subjects?.join(', ')})`);
    }
  }

  #filterOf(nc: NatsConnection, handlers: ReadonlyMap<string, Subscription>): string[] {
    const subjects = [...handlers.keys()].map((type) => this.#subjectOf(type));
    if (subjects.length <= 1 || supportsMultipleFilters(nc.info?.version)) return subjects;
    // Before NATS 2.10 a consumer filters on one subject: take them all, the loop acks the others unhandled.
    this.#logger.warn({ server_version: nc.info?.version }, 'NATS < 2.10: consumers with several event types receive every event');
    return [`${this.#options.subjectPrefix}.>`];
  }

  #subjectOf(type: string): string {
    return `${this.#options.subjectPrefix}.${type}`;
  }

  #settings(): ConsumerSettings {
    const { stream, ackWaitMs, maxDeliver, maxAckPending, retryBaseMs, retryMaxMs } = this.#options;
    return { stream, ackWaitMs, maxDeliver, maxAckPending, retryBaseMs, retryMaxMs };
  }
}

function supportsMultipleFilters(version: string | undefined): boolean {
  const [major = 0, minor = 0] = (version ?? '').split('.').map(Number);
  return major > 2 || (major === 2 && minor >= 10);
}

function streamNotFoundAsUndefined(error: unknown): undefined {
  if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return undefined;
  throw error;
}
