import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessBus, OutboxDispatcher, Telemetry, UnitOfWork, createLogger, type Database } from '@shop/platform';
import { eventually } from '@shop/platform/testing';
import { WidgetCreated, openWidgetsDb, sleep, type WidgetsDb } from './support.ts';

const EVENTS = 500;

let w: WidgetsDb;
beforeAll(async () => {
  w = await openWidgetsDb();
});
afterAll(() => w?.close());

describe('two dispatchers on one outbox (two processes)', () => {
  it('deliver every event exactly once between them', async () => {
    // Written with no dispatcher awake, so both start on the same 500 pending rows.
    const uow = new UnitOfWork(w.module, () => undefined);
    const published = await uow.run(async (tx) => {
      const ids: string[] = [];
      for (let i = 0; i < EVENTS; i++) {
        const widget_id = randomUUID();
        ids.push(widget_id);
        tx.publish(WidgetCreated, { widget_id, name: `w${i}` });
      }
      return ids;
    });

    const deliveries = new Map<string, number>(); // event id → times delivered, across both processes
    const widgets = new Set<string>();
    const byProcess = [0, 0];
    const dispatcherFor = (db: Database, process: 0 | 1) => {
      const bus = new InProcessBus();
      bus.subscribe({
        consumer: 'counter',
        events: [WidgetCreated.type],
        handle: async (event) => {
          deliveries.set(event.id, (deliveries.get(event.id) ?? 0) + 1);
          widgets.add(WidgetCreated.payloadOf(event).widget_id);
          byProcess[process]! += 1;
          await sleep(1); // a handler that takes a moment, so the two claim rounds overlap
        },
      });
      return new OutboxDispatcher(
        { db: db.forModule('widgets'), source: 'widgets', bus, logger: createLogger('silent'), telemetry: new Telemetry({ defaultMetrics: false }) },
        { batchSize: 20, sweepIntervalMs: 20 },
      );
    };
    // Two pools: two processes' worth of connections, each dispatcher with its own.
    const first = dispatcherFor(w.db, 0);
    const second = dispatcherFor(w.openAnother(), 1);
    first.start();
    second.start();
    try {
      await eventually(async () => expect(await first.counts()).toEqual({ pending: 0, delivered: EVENTS, failed: 0 }), 30_000, 50);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }

    expect(deliveries.size).toBe(EVENTS);
    const duplicated = [...deliveries].filter(([, times]) => times !== 1);
    expect(duplicated).toEqual([]);
    expect(widgets).toEqual(new Set(published));
    // Both really worked at the same time; otherwise this test would prove nothing about claiming.
    expect(byProcess[0]).toBeGreaterThan(0);
    expect(byProcess[1]).toBeGreaterThan(0);
    expect(byProcess[0]! + byProcess[1]!).toBe(EVENTS);
  });
});
