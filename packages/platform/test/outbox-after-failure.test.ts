import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessBus, OutboxDispatcher, Telemetry, UnitOfWork, createLogger } from '@shop/platform';
import { eventually } from '@shop/platform/testing';
import { WidgetCreated, openWidgetsDb, type WidgetsDb } from './support.ts';

let w: WidgetsDb;
beforeAll(async () => {
  w = await openWidgetsDb();
});
afterAll(() => w?.close());

describe('a batch with a failing event in front', () => {
  it('delivers the events behind it at once, not at the next sweep, and keeps the failed one for its retry', async () => {
    const bus = new InProcessBus();
    bus.subscribe({
      consumer: 'picky',
      events: [WidgetCreated.type],
      handle: async (event) => {
        if ((event.payload as { name: string }).name === 'poison') throw new Error('not this one');
      },
    });
    // No sweep and a long backoff within the test: only the dispatcher's own next round can deliver.
    const dispatcher = new OutboxDispatcher(
      { db: w.module, source: 'widgets', bus, logger: createLogger('silent'), telemetry: new Telemetry({ defaultMetrics: false }) },
      { sweepIntervalMs: 60_000, retryBaseMs: 60_000 },
    );
    const uow = new UnitOfWork(w.module, () => dispatcher.kick());
    dispatcher.start();
    try {
      await uow.run(async (tx) => {
        for (const name of ['poison', 'fine', 'also fine']) tx.publish(WidgetCreated, { widget_id: randomUUID(), name });
      });
      await eventually(async () => expect(await dispatcher.counts()).toEqual({ pending: 1, delivered: 2, failed: 0 }), 3_000);
      const [pending] = await dispatcher.list('pending');
      expect(pending).toMatchObject({ attempts: 1, payload: { name: 'poison' } });
      expect(pending!.last_error).toContain('picky: not this one');
    } finally {
      await dispatcher.stop();
    }
  });
});
