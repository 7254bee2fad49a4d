import { jetstream, jetstreamManager, type JetStreamClient, type PubAck } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { EventEnvelope } from '@shop/contract-kit';
import type { Logger } from 'pino';
import type { EventBus, Subscription } from '@shop/platform';
import { ConsumerLoop, type ConsumerStats } from './nats-consumer.ts';
import { ensureDurableConsumer, ensureStream, supportsMultipleFilters, type ConsumerSettings } from './nats-topology.ts';

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
  /** Rejecters of the publishes awaiting JetStream's acknowledgement. */
  readonly #inFlight = new Set<(error: Error) => void>();
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: NatsBusOptions) {
    this.#options = {
      stream: 'SHOP_EVENTS',
      subjectPrefix: 'shop.events',
      // A message the server sent to a replica that was stopping (its pull outstanding, its
      // subscription already closed) is redelivered only after this wait: short, so a rolling
      // restart delays no event long. A handler still at work extends it (`working()`, every third).
      ackWaitMs: 10_000,
      maxDeliver: -1,
      maxAckPending: 1_000,
      retryBaseMs: 1_000,
      retryMaxMs: 5 * 60_000,
      publishTimeoutMs: 5_000,
      duplicateWindowMs: 2 * 60_000,
      retentionMs: 7 * DAY_MS,
      // An option given as undefined (an unset setting) keeps its default.
      ...(Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as NatsBusOptions),
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
    this.#starting = this.#open();
    try {
      await this.#starting;
      if (!this.#stopping) this.#state = 'started';
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  async #open(): Promise<void> {
    const nc = await this.#connect();
    this.#nc = nc;
    const js = jetstream(nc, { timeout: this.#options.publishTimeoutMs });
    this.#js = js;
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, this.#options);
    for (const [name, handlers] of this.#consumers) {
      if (handlers.size === 0 || this.#stopping) continue;
      const ensure = () => ensureStream(jsm, this.#options).then(() => ensureDurableConsumer(jsm, name, this.#filterOf(nc, handlers), this.#settings()));
      await ensure();
      const loop = new ConsumerLoop({ name, handlers, js, ensure, logger: this.#logger, settings: this.#settings() });
      this.#loops.push(loop);
      loop.start();
    }
  }

  async publish(event: EventEnvelope): Promise<void> {
    await this.#send(event);
  }

  /**
   * Every publish of the batch is written to the one connection before any acknowledgement is
   * awaited, so the batch costs one round trip instead of one per event, and JetStream, which
   * handles a connection's messages in the order they came, stores them in the order given.
   */
  publishBatch(events: readonly EventEnvelope[]): Promise<PromiseSettledResult<void>[]> {
    // `#send` writes its message before its first await: the map sends them all, in order, right now.
    return Promise.allSettled(events.map((event) => this.#send(event)));
  }

  async #send(event: EventEnvelope): Promise<void> {
    if (this.#state !== 'started' || !this.#js) throw new Error(`the NATS bus is ${this.#state}, cannot publish ${event.type}`);
    // Fail at once while reconnecting: the outbox holds its batch in a transaction, and retries later anyway.
    if (!this.#connected) throw new Error(`NATS at ${this.#options.url} is not reachable (reconnecting)`);
    // msgID: a republish after a crash between this call and the outbox marking the row is dropped by the server.
    const stored = this.#js.publish(this.#subjectOf(event.type), JSON.stringify(event), { msgID: event.id, timeout: this.#options.publishTimeoutMs });
    // The acknowledgement of a publish under way when the connection drops never comes: fail it
    // at once rather than after the timeout (if the server did store it, the retry is deduplicated).
    const ack = await new Promise<PubAck>((resolve, reject) => {
      this.#inFlight.add(reject);
      stored.then(resolve, reject).finally(() => this.#inFlight.delete(reject));
    });
    if (ack.duplicate) this.#logger.debug({ event_id: event.id, event_type: event.type }, 'event was already in the stream');
  }

  /** Each of this process's durable consumers, as the broker counts its messages (for `/metrics`). */
  consumerStats(): Promise<ConsumerStats[]> {
    return Promise.all(this.#loops.map((loop) => loop.stats()));
  }

  /** Stops consuming, lets the handlers under way finish, then drains and closes the connection. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#shutdown();
    return this.#stopping;
  }

  async #shutdown(): Promise<void> {
    // A stop during start waits for it, so nothing it opens is left behind.
    await this.#starting?.catch(() => undefined);
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
        for (const reject of this.#inFlight) reject(new Error(`NATS at ${this.#options.url} went away before acknowledging the event`));
        this.#inFlight.clear();
        this.#logger.warn({ url: this.#options.url }, 'NATS connection lost; reconnecting');
      } else if (status.type === 'reconnect') {
        this.#connected = true;
        this.#logger.info({ url: this.#options.url }, 'NATS connection restored');
      }
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
