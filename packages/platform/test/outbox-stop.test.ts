import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InProcessBus, OutboxDispatcher, Telemetry, UnitOfWork, createLogger } from '@shop/platform';
import { eventually } from '@shop/platform/testing';
import { WidgetCreated, openWidgetsDb, sleep, type WidgetsDb } from './support.ts';

let w: WidgetsDb;
beforeAll(async () => {
  w = await openWidgetsDb();
});
afterAll(() => w?.close());
beforeEach(() => w.db.pool.query('TRUNCATE widgets.outbox'));

/** A dispatcher whose subscriber takes `handleMs` per event; the sweep never fires during a test. */
function setup(handleMs: number) {
  const delivered: string[] = [];
  const bus = new InProcessBus();
  bus.subscribe({
    consumer: 'slow',
    events: [WidgetCreated.type],
    handle: async (event) => {
      delivered.push(WidgetCreated.payloadOf(event).name);
      await sleep(handleMs);
    },
  });
  const dispatcher = new OutboxDispatcher(
    { db: w.module, source: 'widgets', bus, logger: createLogger('silent'), telemetry: new Telemetry({ defaultMetrics: false }) },
    { sweepIntervalMs: 60_000, batchSize: 10 },
  );
  const kicking = new UnitOfWork(w.module, () => dispatcher.kick());
  // Commits that do not wake the dispatcher: like events left by a crashed process, due now.
  const silent = new UnitOfWork(w.module, () => undefined);
  const publish = (uow: UnitOfWork, names: string[]) =>
    uow.run(async (tx) => names.forEach((name) => tx.publish(WidgetCreated, { widget_id: randomUUID(), name })));
  return { dispatcher, delivered, publish: (names: string[]) => publish(kicking, names), publishSilently: (names: string[]) => publish(silent, names) };
}

const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('stopping a dispatcher', () => {
  it('delivers what is due even if nothing woke it', async () => {
    const { dispatcher, delivered, publishSilently } = setup(0);
    dispatcher.start();
    await dispatcher.idle();
    await publishSilently(['a', 'b']);
    await sleep(100);
    expect(delivered).toEqual([]); // nobody kicked, and the sweep is far away
    await dispatcher.stop();
    expect(delivered).toEqual(['a', 'b']);
    expect(await dispatcher.counts()).toEqual({ pending: 0, delivered: 2, failed: 0 });
  });

  it('mid-delivery: finishes the batch under way, then delivers what became due meanwhile', async () => {
    const { dispatcher, delivered, publish, publishSilently } = setup(30);
    dispatcher.start();
    await publish(names('first', 5)); // fewer than a batch: the running round will not look again
    await eventually(() => expect(delivered.length).toBeGreaterThan(0), 1_000);
    await publishSilently(names('later', 3)); // committed after the round claimed its rows
    await dispatcher.stop();
    expect(delivered).toEqual([...names('first', 5), ...names('later', 3)]);
    expect(await dispatcher.counts()).toEqual({ pending: 0, delivered: 8, failed: 0 });
  });

  it('delivers nothing more once stopped', async () => {
    const { dispatcher, delivered, publish } = setup(0);
    dispatcher.start();
    await dispatcher.stop();
    await publish(['after-stop']); // its kick must be ignored
    await sleep(200);
    expect(delivered).toEqual([]);
    expect(await dispatcher.counts()).toEqual({ pending: 1, delivered: 0, failed: 0 });
  });
});
