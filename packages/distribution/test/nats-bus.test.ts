import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { EventEnvelope } from '@shop/contract-kit';
import { OutboxDispatcher, Telemetry, UnitOfWork, createLogger, type Subscription } from '@shop/platform';
import { NatsBus, type NatsBusOptions } from '@shop/distribution/nats';
import { eventually, spawnNatsServer, startNatsForTests } from '@shop/platform/testing';
import { WidgetCreated, countOf, openWidgetsDb, sleep } from '../../platform/test/support.ts';

/** A shared NATS (NATS_URL, or our own nats-server), and one of our own for the restart test. */
const nats = await startNatsForTests();
const own = await spawnNatsServer();
afterAll(() => Promise.all([nats?.stop(), own?.stop()]));

const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
const RUN = randomBytes(4).toString('hex');
let worlds = 0;
const running: NatsBus[] = [];
const managers = new Map<string, { nc: NatsConnection; jsm: JetStreamManager }>();
const created: { url: string; stream: string }[] = [];

/** A fresh stream and subject prefix per test, so tests and runs on one server never see each other's events. */
function freshWorld(url: string): NatsBusOptions {
  worlds += 1;
  const world = { url, logger, stream: `TEST_${RUN}_${worlds}`, subjectPrefix: `test.${RUN}.${worlds}`, retryBaseMs: 50, retryMaxMs: 500 };
  created.push({ url, stream: world.stream });
  return world;
}

/** A bus as one process would run it: its subscriptions, then started. */
async function startBus(world: NatsBusOptions, ...subscriptions: Subscription[]): Promise<NatsBus> {
  const bus = new NatsBus(world);
  for (const subscription of subscriptions) bus.subscribe(subscription);
  running.push(bus);
  await bus.start();
  return bus;
}

/** A subscription that records what it handled, and how often each id came. */
function recorder(consumer: string, events = [WidgetCreated.type]) {
  const handled: EventEnvelope[] = [];
  const subscription: Subscription = { consumer, events, handle: async (event) => void handled.push(event) };
  return { subscription, handled, ids: () => handled.map((event) => event.id) };
}

function anEvent(type = WidgetCreated.type): EventEnvelope {
  const id = randomUUID();
  return { id, type, version: 1, source: 'widgets', occurred_at: new Date().toISOString(), payload: { widget_id: id, name: 'w' }, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
}

async function manager(url: string): Promise<JetStreamManager> {
  let m = managers.get(url);
  if (!m) {
    const nc = await connect({ servers: url });
    m = { nc, jsm: await jetstreamManager(nc) };
    managers.set(url, m);
  }
  return m.jsm;
}

/** Everything the durable consumer was given has been acked: nothing pending, nothing awaiting an ack. */
async function expectSettled(world: NatsBusOptions, consumer: string): Promise<void> {
  const info = await (await manager(world.url)).consumers.info(world.stream!, consumer);
  expect({ pending: info.num_pending, unacked: info.num_ack_pending }).toEqual({ pending: 0, unacked: 0 });
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((bus) => bus.stop()));
  for (const { url, stream } of created.splice(0)) {
    if (url === own?.url) continue; // that server's store goes with it
    await (await manager(url)).streams.delete(stream).catch(() => undefined);
  }
});
afterAll(async () => {
  for (const { nc } of managers.values()) await nc.close();
});

describe.skipIf(!nats)('NatsBus', () => {
  const url = nats?.url ?? '';

  it('delivers a published event intact to a subscriber in another process', async () => {
    const world = freshWorld(url);
    const spy = recorder('spy');
    await startBus(world, spy.subscription);
    const publisher = await startBus(world);
    const event = anEvent();
    await publisher.publish(event);
    await eventually(() => expect(spy.handled).toEqual([event]));
  });

  it('shares one durable consumer between two processes: each event is handled once in total', async () => {
    const world = freshWorld(url);
    const first = recorder('workers');
    const second = recorder('workers');
    await startBus(world, first.subscription);
    await startBus(world, second.subscription);
    const publisher = await startBus(world);
    const events = Array.from({ length: 40 }, () => anEvent());
    for (const event of events) await publisher.publish(event);
    await eventually(async () => {
      expect(first.handled.length + second.handled.length).toBe(events.length);
      await expectSettled(world, 'workers');
    });
    // All acked, so no redelivery can come: each id was handled exactly once, by one of them.
    expect([...first.ids(), ...second.ids()].sort()).toEqual(events.map((event) => event.id).sort());
  });

  it('gives every consumer every event', async () => {
    const world = freshWorld(url);
    const billing = recorder('billing');
    const shipping = recorder('shipping');
    await startBus(world, billing.subscription, shipping.subscription);
    const publisher = await startBus(world);
    const events = [anEvent(), anEvent(), anEvent()];
    for (const event of events) await publisher.publish(event);
    await eventually(() => {
      expect(billing.ids()).toEqual(events.map((event) => event.id));
      expect(shipping.ids()).toEqual(events.map((event) => event.id));
    });
  });

  it('routes several event types of one consumer to it, and no others', async () => {
    const world = freshWorld(url);
    const spy = recorder('multi', ['a.one', 'a.two']);
    await startBus(world, spy.subscription);
    const publisher = await startBus(world);
    const [one, other, two] = [anEvent('a.one'), anEvent('a.other'), anEvent('a.two')];
    for (const event of [one!, other!, two!]) await publisher.publish(event);
    await eventually(async () => {
      expect(spy.ids()).toEqual([one!.id, two!.id]);
      await expectSettled(world, 'multi');
    });
  });

  it('stores a republished event id once (a crash between publish and marking it delivered)', async () => {
    const world = freshWorld(url);
    const spy = recorder('spy');
    await startBus(world, spy.subscription);
    const publisher = await startBus(world);
    const [event, marker] = [anEvent(), anEvent()];
    await publisher.publish(event);
    await publisher.publish(event); // the outbox's retry after the crash: resolves, as the row must be marked delivered
    await publisher.publish(marker);
    // Delivered in stream order, one at a time: once the marker is in, a duplicate would have come before it.
    await eventually(() => expect(spy.ids()).toContain(marker.id));
    expect(spy.ids()).toEqual([event.id, marker.id]);
    expect((await (await manager(url)).streams.info(world.stream!)).state.messages).toBe(2);
  });

  it('publishes a batch back to back: stored in the order given, one outcome per event, a republished id stored once', async () => {
    const world = freshWorld(url);
    const spy = recorder('spy');
    await startBus(world, spy.subscription);
    const publisher = await startBus(world);
    const earlier = anEvent();
    await publisher.publish(earlier);
    const batch = Array.from({ length: 50 }, () => anEvent());
    // The outbox's retry of an event whose acknowledgement was lost, in the middle of a batch.
    batch.splice(10, 0, earlier);

    const outcomes = await publisher.publishBatch(batch);

    expect(outcomes).toEqual(batch.map(() => ({ status: 'fulfilled', value: undefined })));
    const expected = [earlier, ...batch.filter((event) => event !== earlier)].map((event) => event.id);
    // One consumer in one process handles messages one at a time: it sees them in stream order.
    await eventually(() => expect(spy.ids()).toEqual(expected));
    expect((await (await manager(url)).streams.info(world.stream!)).state.messages).toBe(expected.length);
  });

  it('reports every event of a batch as failed, without throwing, when the bus is not started', async () => {
    const bus = new NatsBus(freshWorld(url));
    const outcomes = await bus.publishBatch([anEvent(), anEvent()]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    expect((outcomes[0] as PromiseRejectedResult).reason.message).toMatch(/the NATS bus is new, cannot publish/);
  });

  it('redelivers an event whose handler threw until it succeeds, then acks it', async () => {
    const world = freshWorld(url);
    const attempts: number[] = [];
    await startBus(world, {
      consumer: 'flaky',
      events: [WidgetCreated.type],
      handle: async () => {
        attempts.push(Date.now());
        if (attempts.length < 3) throw new Error('warehouse unreachable');
      },
    });
    const publisher = await startBus(world);
    await publisher.publish(anEvent());
    await eventually(async () => {
      expect(attempts.length).toBeGreaterThanOrEqual(3);
      await expectSettled(world, 'flaky');
    });
    expect(attempts).toHaveLength(3);
    // The nak delay grows: 50 ms, then 100 ms (retryBaseMs 50).
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(90);
  });

  it('terminates a message that is not an event envelope instead of redelivering it forever', async () => {
    const world = freshWorld(url);
    const spy = recorder('spy');
    await startBus(world, spy.subscription);
    const publisher = await startBus(world);
    await manager(url);
    await jetstream(managers.get(url)!.nc).publish(`${world.subjectPrefix}.${WidgetCreated.type}`, '{"not": "an envelope"}');
    const event = anEvent();
    await publisher.publish(event);
    await eventually(async () => {
      expect(spy.ids()).toEqual([event.id]);
      await expectSettled(world, 'spy');
    });
  });

  it('resumes a stopped consumer process where its durable consumer left off', async () => {
    const world = freshWorld(url);
    const publisher = await startBus(world);
    const before = recorder('resumer');
    const firstRun = await startBus(world, before.subscription);
    const first = anEvent();
    await publisher.publish(first);
    await eventually(() => expect(before.ids()).toEqual([first.id]));
    await firstRun.stop();

    const whileDown = [anEvent(), anEvent()];
    for (const event of whileDown) await publisher.publish(event);
    const after = recorder('resumer');
    await startBus(world, after.subscription);
    await eventually(() => expect(after.ids()).toEqual(whileDown.map((event) => event.id)));
  });

  it('lets the handler under way finish on stop, and acks it', async () => {
    const world = freshWorld(url);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const steps: string[] = [];
    const slow = await startBus(world, {
      consumer: 'slow',
      events: [WidgetCreated.type],
      handle: async () => {
        steps.push('handling');
        await gate;
        steps.push('handled');
      },
    });
    const publisher = await startBus(world);
    await publisher.publish(anEvent());
    await eventually(() => expect(steps).toEqual(['handling']));
    const stopped = slow.stop().then(() => steps.push('stopped'));
    release();
    await stopped;
    expect(steps).toEqual(['handling', 'handled', 'stopped']);
    await eventually(() => expectSettled(world, 'slow'));
  });

  it('refuses to start when NATS is not reachable, saying so', async () => {
    const bus = new NatsBus({ url: 'nats://127.0.0.1:1', logger });
    await expect(bus.start()).rejects.toThrow('NATS at nats://127.0.0.1:1 is not reachable');
    await bus.stop();
  });

  it('refuses subscriptions after start, and stops twice without complaint', async () => {
    const bus = await startBus(freshWorld(url));
    expect(() => bus.subscribe(recorder('late').subscription)).toThrow(/before the bus starts/);
    await bus.stop();
    await bus.stop();
  });
});

describe.skipIf(!own)('NatsBus with the outbox, across a NATS restart', () => {
  it('delivers every event written exactly once in effect, though NATS restarts mid-stream', async () => {
    const w = await openWidgetsDb();
    const world = freshWorld(own!.url);
    const telemetry = new Telemetry({ defaultMetrics: false });
    try {
      // The consuming "process": its own pool, its own bus, recording through its inbox.
      const consumerModule = w.openAnother().forModule('widgets');
      const consumerUow = new UnitOfWork(consumerModule, () => undefined);
      let deliveries = 0;
      await startBus(world, {
        consumer: 'recorder',
        events: [WidgetCreated.type],
        handle: async (event) => {
          deliveries += 1;
          await consumerUow.handleOnce('recorder', event, (tx) => tx.db.insertInto('widgets.effects').values({ consumer: 'recorder', event_id: event.id }).execute().then(() => undefined));
        },
      });

      // The producing "process": unit of work → outbox → dispatcher → NatsBus.
      const producerBus = await startBus(world);
      const dispatcher = new OutboxDispatcher(
        { db: w.module, source: 'widgets', bus: producerBus, logger, telemetry },
        { sweepIntervalMs: 50, retryBaseMs: 20, retryMaxMs: 200, maxAttempts: 1_000 },
      );
      const uow = new UnitOfWork(w.module, () => dispatcher.kick());
      dispatcher.start();

      let written = 0;
      const writeOne = async () => {
        const id = randomUUID();
        await uow.run(async (tx) => {
          await tx.db.insertInto('widgets.widgets').values({ id, name: `w${written}` }).execute();
          tx.publish(WidgetCreated, { widget_id: id, name: `w${written}` });
        });
        written += 1;
      };
      for (let i = 0; i < 50; i++) await writeOne();
      // Keep writing while the server goes down and comes back, and for a while after.
      let restarted = false;
      const restart = own!.restart().then(() => (restarted = true));
      while (!restarted) {
        await writeOne();
        await sleep(5); // pacing the writers, not an assertion
      }
      await restart;
      for (let i = 0; i < 50; i++) await writeOne();

      await eventually(async () => {
        expect(await dispatcher.counts()).toEqual({ pending: 0, delivered: written, failed: 0 });
        expect(await countOf(w.db, "SELECT count(*) AS n FROM widgets.inbox WHERE consumer = 'recorder'")).toBe(written);
      }, 60_000, 100);
      expect(await countOf(w.db, "SELECT count(*) AS n FROM widgets.effects WHERE consumer = 'recorder'")).toBe(written);
      expect(await countOf(w.db, "SELECT count(DISTINCT event_id) AS n FROM widgets.effects WHERE consumer = 'recorder'")).toBe(written);
      expect(deliveries).toBeGreaterThanOrEqual(written);
      await dispatcher.stop();
    } finally {
      await Promise.all(running.splice(0).map((bus) => bus.stop()));
      await w.close();
    }
  });
});
