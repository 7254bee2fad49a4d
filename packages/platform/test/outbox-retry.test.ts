import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessBus, OutboxDispatcher, Telemetry, UnitOfWork, createLogger } from '@shop/platform';
import { eventually } from '@shop/platform/testing';
import { WidgetCreated, openWidgetsDb, sleep, type WidgetsDb } from './support.ts';

const RETRY_BASE_MS = 100;
const MAX_ATTEMPTS = 3;

let w: WidgetsDb;
beforeAll(async () => {
  w = await openWidgetsDb();
});
afterAll(() => w?.close());

/** The value of a counter for module "widgets", read from the registry as /metrics shows it. */
async function counter(telemetry: Telemetry, name: string): Promise<number> {
  const text = await telemetry.registry.getSingleMetricAsString(name);
  const match = new RegExp(`^${name}\\{module="widgets"\\} (\\d+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

describe('a subscriber that keeps failing', () => {
  it('is retried with growing delays, then the event is failed, counted, listed, and an admin retry delivers it', async () => {
    const telemetry = new Telemetry({ defaultMetrics: false });
    const calls: number[] = [];
    let broken = true;
    const bus = new InProcessBus();
    bus.subscribe({
      consumer: 'flaky',
      events: [WidgetCreated.type],
      handle: async () => {
        calls.push(performance.now());
        if (broken) throw new Error('warehouse unreachable');
      },
    });
    // A fast sweep: retries are picked up by the sweep once they are due.
    const dispatcher = new OutboxDispatcher(
      { db: w.module, source: 'widgets', bus, logger: createLogger('silent'), telemetry },
      { sweepIntervalMs: 10, retryBaseMs: RETRY_BASE_MS, maxAttempts: MAX_ATTEMPTS },
    );
    const uow = new UnitOfWork(w.module, () => dispatcher.kick());
    dispatcher.start();
    try {
      await uow.run(async (tx) => tx.publish(WidgetCreated, { widget_id: randomUUID(), name: 'poison' }));

      const [failed] = await eventually(async () => {
        const rows = await dispatcher.list('failed');
        expect(rows).toHaveLength(1);
        return rows;
      }, 5_000);
      expect(failed).toMatchObject({ status: 'failed', attempts: MAX_ATTEMPTS, event_type: WidgetCreated.type });
      expect(failed!.last_error).toContain('flaky: warehouse unreachable');
      expect(calls).toHaveLength(MAX_ATTEMPTS);

      // Backoff: ~100 ms before the 2nd try, ~200 ms before the 3rd (a little slack for clocks).
      const gaps = [calls[1]! - calls[0]!, calls[2]! - calls[1]!];
      expect(gaps[0]).toBeGreaterThanOrEqual(RETRY_BASE_MS * 0.8);
      expect(gaps[1]).toBeGreaterThanOrEqual(RETRY_BASE_MS * 2 * 0.8);

      expect(await counter(telemetry, 'outbox_events_failed_total')).toBe(1);
      expect(await counter(telemetry, 'outbox_delivery_retries_total')).toBe(MAX_ATTEMPTS - 1);
      expect(await dispatcher.counts()).toEqual({ pending: 0, delivered: 0, failed: 1 });

      // A failed event is left alone: the sweep does not try it again.
      await sleep(300);
      expect(calls).toHaveLength(MAX_ATTEMPTS);

      // The admin fixes the subscriber and retries the event.
      broken = false;
      expect(await dispatcher.retry(failed!.id)).toBe(true);
      await eventually(async () => expect(await dispatcher.counts()).toEqual({ pending: 0, delivered: 1, failed: 0 }), 2_000);
      expect(calls).toHaveLength(MAX_ATTEMPTS + 1);
      expect(await dispatcher.list('failed')).toEqual([]);
      expect(await counter(telemetry, 'outbox_events_delivered_total')).toBe(1);

      // Only a failed event can be retried.
      expect(await dispatcher.retry(failed!.id)).toBe(false);
      expect(await dispatcher.retry(randomUUID())).toBe(false);
    } finally {
      await dispatcher.stop();
    }
  });
});
