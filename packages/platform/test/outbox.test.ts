import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '@shop/contract-kit';
import { InProcessBus, OutboxDispatcher, Telemetry, UnitOfWork, createLogger } from '@shop/platform';
import { eventually } from '@shop/platform/testing';
import { WidgetCreated, countOf, openWidgetsDb, sleep, type WidgetsDb } from './support.ts';

let w: WidgetsDb;
let dispatcher: OutboxDispatcher;
let uow: UnitOfWork;
let received: EventEnvelope[];

beforeAll(async () => {
  w = await openWidgetsDb();
});
afterAll(() => w?.close());

beforeEach(async () => {
  await w.db.pool.query('TRUNCATE widgets.widgets, widgets.outbox');
  received = [];
  const bus = new InProcessBus();
  bus.subscribe({ consumer: 'spy', events: [WidgetCreated.type], handle: async (event) => void received.push(event) });
  // A sweep that never comes during a test: only the kick after commit can deliver quickly.
  dispatcher = new OutboxDispatcher(
    { db: w.module, source: 'widgets', bus, logger: createLogger('silent'), telemetry: new Telemetry({ defaultMetrics: false }) },
    { sweepIntervalMs: 60_000 },
  );
  uow = new UnitOfWork(w.module, () => dispatcher.kick());
  dispatcher.start();
  await dispatcher.idle();
});
afterEach(() => dispatcher.stop());

async function createWidget(name: string, fail = false): Promise<string> {
  return uow.run(async (tx) => {
    const id = randomUUID();
    await tx.db.insertInto('widgets.widgets').values({ id, name }).execute();
    tx.publish(WidgetCreated, { widget_id: id, name });
    if (fail) throw new Error('the work failed after publishing');
    return id;
  });
}

describe('the unit of work and its outbox', () => {
  it('commits the change and its event together', async () => {
    const id = await createWidget('sprocket');
    const { rows } = await w.db.pool.query('SELECT event_type, event_version, payload FROM widgets.outbox');
    expect(rows).toEqual([{ event_type: 'widgets.widget_created', event_version: 1, payload: { widget_id: id, name: 'sprocket' } }]);
    expect(await countOf(w.db, 'SELECT count(*) AS n FROM widgets.widgets WHERE id = $1', [id])).toBe(1);
  });

  it('keeps neither the change nor the event when the work throws', async () => {
    await expect(createWidget('doomed', true)).rejects.toThrow('the work failed after publishing');
    expect(await countOf(w.db, 'SELECT count(*) AS n FROM widgets.widgets')).toBe(0);
    expect(await countOf(w.db, 'SELECT count(*) AS n FROM widgets.outbox')).toBe(0);
    // Give a (wrong) delivery every chance to happen before saying it did not.
    await sleep(200);
    expect(received).toEqual([]);
  });

  it('keeps neither when the database refuses the change after the event was published', async () => {
    const id = await createWidget('first');
    await expect(
      uow.run(async (tx) => {
        tx.publish(WidgetCreated, { widget_id: id, name: 'duplicate' });
        await tx.db.insertInto('widgets.widgets').values({ id, name: 'duplicate' }).execute(); // primary key violation
      }),
    ).rejects.toThrow(/duplicate key/);
    expect(await countOf(w.db, 'SELECT count(*) AS n FROM widgets.outbox')).toBe(1);
  });

  it('writes no outbox row and wakes nobody for work that publishes nothing', async () => {
    let kicks = 0;
    const quiet = new UnitOfWork(w.module, () => kicks++);
    await quiet.run((tx) => tx.db.insertInto('widgets.widgets').values({ id: randomUUID(), name: 'silent' }).execute());
    expect(await countOf(w.db, 'SELECT count(*) AS n FROM widgets.outbox')).toBe(0);
    expect(kicks).toBe(0);
  });
});

describe('delivery after commit', () => {
  it('reaches the subscriber within a second, long before the sweep', async () => {
    const id = await createWidget('fast');
    await eventually(() => expect(received.map((event) => event.payload)).toEqual([{ widget_id: id, name: 'fast' }]), 1_000);
    const [event] = received;
    expect(event).toMatchObject({ type: 'widgets.widget_created', version: 1, source: 'widgets' });
    // The envelope's id is the outbox row's id (the deduplication key downstream).
    await eventually(async () => {
      const { rows } = await w.db.pool.query('SELECT id, status, attempts FROM widgets.outbox');
      expect(rows).toEqual([{ id: event!.id, status: 'delivered', attempts: 1 }]);
    }, 1_000);
  });

  it('delivers events in commit order', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await createWidget(`w${i}`));
    await eventually(() => expect(received.map((event) => (event.payload as { widget_id: string }).widget_id)).toEqual(ids), 1_000);
  });
});
