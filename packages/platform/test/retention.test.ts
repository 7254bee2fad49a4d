import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MessagingRetention, createLogger, type Database, type RetentionOptions } from '@shop/platform';
import { countOf, openWidgetsDb, type WidgetsDb } from './support.ts';

/** Pruning delivered outbox rows and inbox rows by age, on a real PostgreSQL. */

const DAY = 86_400_000;
const OPTIONS: RetentionOptions = { outboxRetentionMs: 7 * DAY, inboxRetentionMs: 14 * DAY, intervalMs: 60_000 };

let w: WidgetsDb;
beforeAll(async () => {
  w = await openWidgetsDb();
});
afterAll(() => w?.close());
beforeEach(async () => {
  await w.db.pool.query('TRUNCATE widgets.outbox, widgets.inbox');
});

const pruner = (db: Database = w.db, options: Partial<RetentionOptions> = {}) =>
  new MessagingRetention({ db: db.forModule('widgets'), module: 'widgets', logger: createLogger('silent') }, { ...OPTIONS, ...options });

/** `count` outbox rows in `status`, occurred and (if delivered) delivered `ageDays` ago; returns their ids. */
async function outboxRows(count: number, status: 'pending' | 'delivered' | 'failed', ageDays: number): Promise<string[]> {
  const { rows } = await w.db.pool.query<{ id: string }>(
    `INSERT INTO widgets.outbox (id, event_type, event_version, payload, occurred_at, status, attempts, next_attempt_at, delivered_at, last_error)
     SELECT gen_random_uuid(), 'widgets.widget_created', 1, '{}'::jsonb, now() - make_interval(days => $3), $2, 1, now() - make_interval(days => $3),
            CASE WHEN $2 = 'delivered' THEN now() - make_interval(days => $3) END, CASE WHEN $2 = 'failed' THEN 'boom' END
     FROM generate_series(1, $1) RETURNING id`,
    [count, status, ageDays],
  );
  return rows.map((row) => row.id);
}

async function inboxRows(count: number, ageDays: number, consumer = 'spy'): Promise<void> {
  await w.db.pool.query(
    `INSERT INTO widgets.inbox (consumer, event_id, event_type, handled_at)
     SELECT $3, gen_random_uuid(), 'widgets.widget_created', now() - make_interval(days => $2) FROM generate_series(1, $1)`,
    [count, ageDays, consumer],
  );
}

const count = (sql: string, params: unknown[] = []) => countOf(w.db, sql, params);

describe('messaging retention', () => {
  it('deletes delivered outbox rows past the retention, and keeps pending, failed and recent ones', async () => {
    await outboxRows(2_500, 'delivered', 8); // more than two batches: the loop must go on to the end
    const recent = await outboxRows(30, 'delivered', 6);
    const pending = await outboxRows(20, 'pending', 30); // e.g. NATS down for a month: still to deliver
    const failed = await outboxRows(10, 'failed', 400); // poison events wait for an admin, forever

    const result = await pruner(w.db, { batchSize: 1_000 }).prune();

    expect(result.outbox).toBe(2_500);
    expect(await count(`SELECT count(*) AS n FROM widgets.outbox WHERE status = 'delivered'`)).toBe(30);
    const kept = (await w.db.pool.query<{ id: string }>('SELECT id FROM widgets.outbox')).rows.map((row) => row.id).sort();
    expect(kept).toEqual([...recent, ...pending, ...failed].sort());
  });

  it('deletes inbox rows past the inbox retention only', async () => {
    await inboxRows(1_200, 15);
    await inboxRows(300, 15, 'other-consumer');
    await inboxRows(40, 13); // older than the outbox's 7 days, younger than the inbox's 14: kept
    await inboxRows(5, 0);

    const result = await pruner(w.db, { batchSize: 500 }).prune();

    expect(result).toEqual({ outbox: 0, inbox: 1_500 });
    expect(await count('SELECT count(*) AS n FROM widgets.inbox')).toBe(45);
    expect(await count(`SELECT count(*) AS n FROM widgets.inbox WHERE handled_at < now() - interval '14 days'`)).toBe(0);
  });

  it('two pruners racing (two replicas) share the work without an error or a row left behind', async () => {
    await outboxRows(6_000, 'delivered', 10);
    await outboxRows(50, 'pending', 10);
    await inboxRows(6_000, 20);
    const other = w.openAnother();
    const pruners = [pruner(w.db, { batchSize: 200, pauseMs: 0 }), pruner(other, { batchSize: 200, pauseMs: 0 })];

    const results = await Promise.all(pruners.map((p) => p.prune()));

    expect(results.reduce((sum, r) => sum + r.outbox, 0)).toBe(6_000);
    expect(results.reduce((sum, r) => sum + r.inbox, 0)).toBe(6_000);
    expect(await count('SELECT count(*) AS n FROM widgets.outbox')).toBe(50);
    expect(await count('SELECT count(*) AS n FROM widgets.inbox')).toBe(0);
  });

  it('an inbox row outlives its pruned outbox row: a redelivery inside the inbox retention is still absorbed', async () => {
    // The event was delivered 10 days ago: its outbox row is gone at a 7-day retention, but a
    // copy may still come back (an operator's replay, or NATS), and the inbox row must stop it.
    const [eventId] = await outboxRows(1, 'delivered', 10);
    await w.db.pool.query(`INSERT INTO widgets.inbox (consumer, event_id, event_type, handled_at) VALUES ('spy', $1, 'widgets.widget_created', now() - interval '10 days')`, [eventId]);

    await pruner().prune();

    expect(await count('SELECT count(*) AS n FROM widgets.outbox WHERE id = $1', [eventId])).toBe(0);
    const again = await w.db.pool.query(`INSERT INTO widgets.inbox (consumer, event_id, event_type) VALUES ('spy', $1, 'widgets.widget_created') ON CONFLICT DO NOTHING`, [eventId]);
    expect(again.rowCount).toBe(0);
  });

  it('runs by itself once started, and stops', async () => {
    await outboxRows(10, 'delivered', 9);
    await inboxRows(10, 20);
    const running = pruner(w.db, { firstDelayMs: 10, intervalMs: 60_000 });
    running.start();
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && (await count('SELECT (SELECT count(*) FROM widgets.outbox) + (SELECT count(*) FROM widgets.inbox) AS n')) > 0) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await running.stop();
    expect(await count('SELECT (SELECT count(*) FROM widgets.outbox) + (SELECT count(*) FROM widgets.inbox) AS n')).toBe(0);
  });

  it('stop ends a long catch-up between two batches, and the next pruning finishes it', async () => {
    await outboxRows(5_000, 'delivered', 30);
    const slow = pruner(w.db, { firstDelayMs: 0, batchSize: 100, pauseMs: 10 });
    slow.start();
    while ((await count('SELECT count(*) AS n FROM widgets.outbox')) === 5_000) await new Promise((resolve) => setTimeout(resolve, 5));
    await slow.stop();
    const left = await count('SELECT count(*) AS n FROM widgets.outbox');
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(5_000);
    expect((await pruner().prune()).outbox).toBe(left);
  });

  it('finds each batch through an index on the age, not a scan of the table', async () => {
    await outboxRows(20_000, 'delivered', 1);
    await inboxRows(20_000, 1);
    await w.db.pool.query('ANALYZE widgets.outbox; ANALYZE widgets.inbox');
    const plan = async (sql: string) => (await w.db.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`)).rows.map((row) => row['QUERY PLAN']).join('\n');
    const outboxPlan = await plan(
      `SELECT seq FROM widgets.outbox WHERE status = 'delivered' AND delivered_at < now() - interval '7 days' ORDER BY delivered_at LIMIT 1000 FOR UPDATE SKIP LOCKED`,
    );
    const inboxPlan = await plan(`SELECT consumer, event_id FROM widgets.inbox WHERE handled_at < now() - interval '14 days' ORDER BY handled_at LIMIT 1000 FOR UPDATE SKIP LOCKED`);
    expect(outboxPlan).toContain('outbox_delivered_at');
    expect(inboxPlan).toContain('inbox_handled_at');
    expect(outboxPlan).not.toContain('Seq Scan');
    expect(inboxPlan).not.toContain('Seq Scan');
  });
});
