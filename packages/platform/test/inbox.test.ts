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

function anEvent(): EventEnvelope {
  return {
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
