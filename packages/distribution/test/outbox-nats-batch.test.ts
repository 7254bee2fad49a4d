import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { EventEnvelope } from '@shop/contract-kit';
import { OutboxDispatcher, Telemetry, UnitOfWork, createLogger, type EventBus, type Subscription } from '@shop/platform';
import { NatsBus, type NatsBusOptions } from '@shop/distribution/nats';
import { deleteNatsStream, eventually, startNatsForTests } from '@shop/platform/testing';
import { WidgetCreated, openWidgetsDb, type WidgetsDb } from '../../platform/test/support.ts';

/**
 * The outbox relaying over NATS a batch at a time (NatsBus.publishBatch): all of a batch's
 * publishes are sent back to back and their acknowledgements awaited together. Real NATS, real
 * PostgreSQL; what is checked is what consumers rely on: every event, in outbox order, once.
 */

const nats = await startNatsForTests();
afterAll(() => nats?.stop());

const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
const RUN = randomBytes(4).toString('hex');

let w: WidgetsDb;
let nc: NatsConnection | undefined;
let jsm: JetStreamManager;
beforeAll(async () => {
  w = await openWidgetsDb();
  if (!nats) return;
  nc = await connect({ servers: nats.url });
  jsm = await jetstreamManager(nc);
});
afterAll(async () => {
  await nc?.close();
  await w?.close();
});

let world: NatsBusOptions;
let worlds = 0;
const running: { stop(): Promise<void> }[] = [];
beforeEach(async () => {
  await w.db.pool.query('TRUNCATE widgets.outbox');
  worlds += 1;
  // A stream and subject prefix of this test's own: tests and runs on a shared server never meet.
  world = { url: nats?.url ?? '', logger, stream: `TEST_OUTBOX_${RUN}_${worlds}`, subjectPrefix: `test.outbox.${RUN}.${worlds}` };
});
afterEach(async () => {
  // Last started, first stopped: dispatchers before the buses they publish on.
  for (const service of running.splice(0).reverse()) await service.stop();
  await deleteNatsStream(world.url, world.stream!);
});

async function startBus(...subscriptions: Subscription[]): Promise<NatsBus> {
  const bus = new NatsBus(world);
  for (const subscription of subscriptions) bus.subscribe(subscription);
  running.push(bus);
  await bus.start();
  return bus;
}

/** The consuming process: its own connection and durable consumer, recording what arrives, in order. */
async function startRecorder(): Promise<EventEnvelope[]> {
  const received: EventEnvelope[] = [];
  await startBus({ consumer: 'recorder', events: [WidgetCreated.type], handle: async (event) => void received.push(event) });
  return received;
}

function startDispatcher(bus: EventBus, options: ConstructorParameters<typeof OutboxDispatcher>[1] = {}): OutboxDispatcher {
  const dispatcher = new OutboxDispatcher({ db: w.module, source: 'widgets', bus, logger, telemetry: new Telemetry({ defaultMetrics: false }) }, options);
  running.push(dispatcher);
  dispatcher.start();
  return dispatcher;
}

/** Writes `count` events, `perTransaction` to a unit of work, with no dispatcher awake; returns their ids in outbox order. */
async function writeEvents(count: number, perTransaction: number): Promise<string[]> {
  const uow = new UnitOfWork(w.module, () => undefined);
  for (let written = 0; written < count; written += perTransaction) {
    await uow.run(async (tx) => {
      for (let i = written; i < Math.min(count, written + perTransaction); i++) tx.publish(WidgetCreated, { widget_id: randomUUID(), name: `w${i}` });
    });
  }
  const { rows } = await w.db.pool.query<{ id: string }>('SELECT id FROM widgets.outbox ORDER BY seq');
  return rows.map((row) => row.id);
}

async function messagesInStream(): Promise<number> {
  return (await jsm.streams.info(world.stream!)).state.messages;
}

/**
 * The real NATS bus, except that in its first batch the acknowledgement of one event is lost:
 * the server stored it, but the dispatcher is told it failed (as after a publish timeout). Later
 * batches wait for `release()`, so the test can see what the first round left in the outbox.
 */
class AckLostInFirstBatch implements EventBus {
  readonly #inner: NatsBus;
  readonly #lostIndex: number;
  readonly #released: Promise<void>;
  #batches = 0;
  release!: () => void;

  constructor(inner: NatsBus, lostIndex: number) {
    this.#inner = inner;
    this.#lostIndex = lostIndex;
    this.#released = new Promise((resolve) => (this.release = resolve));
  }

  async publishBatch(events: readonly EventEnvelope[]): Promise<PromiseSettledResult<void>[]> {
    const batch = ++this.#batches;
    if (batch > 1) await this.#released;
    const outcomes = await this.#inner.publishBatch(events);
    if (batch === 1) outcomes[this.#lostIndex] = { status: 'rejected', reason: new Error('no acknowledgement within 5000 ms') };
    return outcomes;
  }

  publish(event: EventEnvelope): Promise<void> {
    return this.#inner.publish(event);
  }

  subscribe(subscription: Subscription): void {
    this.#inner.subscribe(subscription);
  }

  start(): Promise<void> {
    return this.#inner.start();
  }

  stop(): Promise<void> {
    return this.#inner.stop();
  }
}

describe.skipIf(!nats)('the outbox relaying over NATS in batches', () => {
  it('relays many batches complete, in outbox order, each event stored once in the stream', async () => {
    const EVENTS = 1_000;
    const received = await startRecorder();
    const publisher = await startBus();
    // Spies that call through: they only tell which path the dispatcher took.
    const batches = vi.spyOn(publisher, 'publishBatch');
    const singles = vi.spyOn(publisher, 'publish');
    const ids = await writeEvents(EVENTS, 100);

    const dispatcher = startDispatcher(publisher, { batchSize: 100, sweepIntervalMs: 50 });
    await eventually(async () => expect(await dispatcher.counts()).toEqual({ pending: 0, delivered: EVENTS, failed: 0 }), 30_000, 50);
    await eventually(() => expect(received).toHaveLength(EVENTS), 30_000, 50);

    // One consumer handles the stream's messages one at a time, so it received them in stream order.
    expect(received.map((event) => event.id)).toEqual(ids);
    expect(await messagesInStream()).toBe(EVENTS);
    expect(batches).toHaveBeenCalledTimes(EVENTS / 100);
    expect(singles).not.toHaveBeenCalled();
    const { rows } = await w.db.pool.query<{ attempts: number; n: string | number }>('SELECT attempts, count(*) AS n FROM widgets.outbox GROUP BY attempts');
    expect(rows.map(({ attempts, n }) => ({ attempts, n: Number(n) }))).toEqual([{ attempts: 1, n: EVENTS }]);
  });

  it('marks delivered only the events before a failed one; the failed one backs off, those after it stay pending; all arrive once it clears', async () => {
    const RETRY_BASE_MS = 2_000;
    const received = await startRecorder();
    const bus = new AckLostInFirstBatch(await startBus(), 3);
    const ids = await writeEvents(8, 8);

    const dispatcher = startDispatcher(bus, { batchSize: 100, sweepIntervalMs: 20, retryBaseMs: RETRY_BASE_MS });
    const outbox = async () => {
      const { rows } = await w.db.pool.query<{ id: string; status: string; attempts: number; last_error: string | null; backing_off: boolean }>(
        'SELECT id, status, attempts, last_error, next_attempt_at > now() AS backing_off FROM widgets.outbox ORDER BY seq',
      );
      return rows;
    };
    try {
      // The first round committed (the fourth event's failure is recorded); the next waits in the stand-in.
      const afterFirstRound = await eventually(async () => {
        const rows = await outbox();
        expect(rows[3]!.attempts).toBe(1);
        return rows;
      });

      expect(afterFirstRound.map((row) => row.id)).toEqual(ids);
      expect(afterFirstRound.slice(0, 3).map(({ status, attempts }) => ({ status, attempts }))).toEqual(Array(3).fill({ status: 'delivered', attempts: 1 }));
      expect(afterFirstRound[3]).toMatchObject({ status: 'pending', attempts: 1, last_error: 'no acknowledgement within 5000 ms', backing_off: true });
      // Acknowledged by the server, yet not marked delivered: an event before them is still pending.
      expect(afterFirstRound.slice(4).map(({ status, attempts, last_error, backing_off }) => ({ status, attempts, last_error, backing_off }))).toEqual(
        Array(4).fill({ status: 'pending', attempts: 0, last_error: null, backing_off: false }),
      );

      bus.release();
      await eventually(async () => expect(await dispatcher.counts()).toEqual({ pending: 0, delivered: 8, failed: 0 }), RETRY_BASE_MS * 5, 50);
      expect((await outbox()).map((row) => row.attempts)).toEqual([1, 1, 1, 2, 1, 1, 1, 1]);
      // The republished events (the failed one and those after it) were dropped by the server as duplicates of their ids.
      expect(await messagesInStream()).toBe(8);
      await eventually(() => expect(received.map((event) => event.id)).toEqual(ids));
    } finally {
      // Whatever failed, the held round must end, or stopping the dispatcher would wait for it forever.
      bus.release();
    }
  });
});
