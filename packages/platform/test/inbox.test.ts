import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '@shop/contract-kit';
import { UnitOfWork, type Tx } from '@shop/platform';
import { WidgetCreated, countOf, openWidgetsDb, type WidgetsDb } from './support.ts';

let w: WidgetsDb;
let uow: UnitOfWork;
beforeAll(async () => {
  w = await openWidgetsDb();
  uow = new UnitOfWork(w.module, () => undefined);
});
afterAll(() => w?.close());

function anEvent(traceparent?: string): EventEnvelope {
  return {
    ...(traceparent ? { traceparent } : {}),
    id: randomUUID(),
    type: WidgetCreated.type,
    version: 1,
    source: 'widgets',
    occurred_at: new Date().toISOString(),
    payload: { widget_id: randomUUID(), name: 'w' },
  };
}

/** The effect under test: one row per run, in the same transaction as the inbox row. */
const recordEffect = (consumer: string, event: EventEnvelope) => async (tx: Tx) => {
  await tx.db.insertInto('widgets.effects').values({ consumer, event_id: event.id }).execute();
};

const effectsOf = (event: EventEnvelope, consumer = 'counter') =>
  countOf(w.db, 'SELECT count(*) AS n FROM widgets.effects WHERE event_id = $1 AND consumer = $2', [event.id, consumer]);

describe('handleOnce (the inbox)', () => {
  it('applies the effect the first time and skips a redelivery', async () => {
    const event = anEvent();
    expect(await uow.handleOnce('counter', event, recordEffect('counter', event))).toBe(true);
    expect(await uow.handleOnce('counter', event, recordEffect('counter', event))).toBe(false);
    expect(await effectsOf(event)).toBe(1);
  });

  it('applies the effect exactly once when the same event arrives ten times at once', async () => {
    const event = anEvent();
    // Ten connections race on one inbox key; the losers wait for the winner's commit, then skip.
    const results = await Promise.all(Array.from({ length: 10 }, () => uow.handleOnce('counter', event, recordEffect('counter', event))));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await effectsOf(event)).toBe(1);
  });

  it('keeps one inbox per consumer: each consumer applies the event once', async () => {
    const event = anEvent();
    expect(await uow.handleOnce('counter', event, recordEffect('counter', event))).toBe(true);
    expect(await uow.handleOnce('auditor', event, recordEffect('auditor', event))).toBe(true);
    expect(await uow.handleOnce('auditor', event, recordEffect('auditor', event))).toBe(false);
    expect(await effectsOf(event, 'counter')).toBe(1);
    expect(await effectsOf(event, 'auditor')).toBe(1);
  });

  it('forgets an event whose effect failed, so the retry applies it', async () => {
    const event = anEvent();
    await expect(
      uow.handleOnce('counter', event, async (tx) => {
        await recordEffect('counter', event)(tx);
        throw new Error('effect failed halfway');
      }),
    ).rejects.toThrow('effect failed halfway');
    expect(await effectsOf(event)).toBe(0);
    expect(await countOf(w.db, 'SELECT count(*) AS n FROM widgets.inbox WHERE event_id = $1', [event.id])).toBe(0);

    expect(await uow.handleOnce('counter', event, recordEffect('counter', event))).toBe(true);
    expect(await effectsOf(event)).toBe(1);
  });
});

describe('handleEachOnce (the inbox, a batch at a time)', () => {
  /** Records one effect row per fresh event, and what the effect was given. */
  const recordAll = (seen: string[][]) => async (tx: Tx, fresh: readonly EventEnvelope[]) => {
    seen.push(fresh.map((event) => event.id));
    for (const event of fresh) await recordEffect('counter', event)(tx);
  };

  it('gives the effect only the events not handled before, once each, in the order given', async () => {
    const [handled, a, b, c] = [anEvent(), anEvent(), anEvent(), anEvent()];
    await uow.handleOnce('counter', handled, recordEffect('counter', handled));
    const seen: string[][] = [];
    const outcomes = await uow.handleEachOnce('counter', [a, handled, b, a, c], recordAll(seen));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(seen).toEqual([[a.id, b.id, c.id]]);
    for (const event of [handled, a, b, c]) expect(await effectsOf(event)).toBe(1);

    // The same batch again: nothing is fresh, the effect is not even called.
    expect((await uow.handleEachOnce('counter', [a, b, c], recordAll(seen))).every((outcome) => outcome.status === 'fulfilled')).toBe(true);
    expect(seen).toHaveLength(1);
  });

  it('isolates a failing event: the others are handled, it alone fails and stays unhandled', async () => {
    const [a, poison, c] = [anEvent(), anEvent(), anEvent()];
    const outcomes = await uow.handleEachOnce('counter', [a, poison, c], async (tx, fresh) => {
      for (const event of fresh) {
        await recordEffect('counter', event)(tx);
        if (event.id === poison.id) throw new Error('cannot apply this one');
      }
    });
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toContain('cannot apply this one');
    expect([await effectsOf(a), await effectsOf(poison), await effectsOf(c)]).toEqual([1, 0, 1]);
    expect(await countOf(w.db, 'SELECT count(*) AS n FROM widgets.inbox WHERE event_id = $1', [poison.id])).toBe(0);
  });

  it("writes each reaction with its own cause's trace", async () => {
    const traces = ['0af7651916cd43dd8448eb211c80319c', '4bf92f3577b34da6a3ce929d0e0e4736'];
    const causes = traces.map((trace) => anEvent(`00-${trace}-b7ad6b7169203331-01`));
    await uow.handleEachOnce('counter', causes, async (tx, fresh) => {
      for (const event of fresh) tx.publish(WidgetCreated, { widget_id: event.id, name: 'reaction' }, event);
    });
    const rows = await w.db.pool.query<{ payload: { widget_id: string }; traceparent: string }>(
      'SELECT payload, traceparent FROM widgets.outbox WHERE payload->>\'widget_id\' = ANY($1)',
      [causes.map((event) => event.id)],
    );
    const traceOf = new Map(rows.rows.map((row) => [row.payload.widget_id, row.traceparent.split('-')[1]]));
    expect(causes.map((event) => traceOf.get(event.id))).toEqual(traces);
  });
});
