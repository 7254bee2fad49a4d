import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@shop/platform/testing';
import { startTestApp, type TestApp } from './harness.ts';

/**
 * The app prunes every hosted module's outbox and inbox by itself (MessagingRetention, started
 * with the modules; the class's own cases are in packages/platform/test/retention.test.ts).
 */
let t: TestApp;
let owner: pg.Client;

beforeAll(async () => {
  t = await startTestApp({ OUTBOX_RETENTION: '2d', INBOX_RETENTION: '3d' });
  owner = new pg.Client({ connectionString: t.database.url });
  await owner.connect();
});
afterAll(async () => {
  await owner?.end();
  await t?.stop();
});

const count = async (sql: string) => Number((await owner.query<{ n: string }>(sql)).rows[0]!.n);

describe('the running app prunes each module it hosts', () => {
  it('deletes delivered outbox rows and inbox rows past OUTBOX_RETENTION and INBOX_RETENTION, and keeps failed and recent ones', async () => {
    for (const schema of ['orders', 'inventory', 'payments', 'notifications']) {
      await owner.query(
        `INSERT INTO ${schema}.outbox (id, event_type, event_version, payload, occurred_at, status, delivered_at, last_error)
         VALUES (gen_random_uuid(), 'Old', 1, '{}', now() - interval '50 hours', 'delivered', now() - interval '50 hours', NULL),
                (gen_random_uuid(), 'Recent', 1, '{}', now() - interval '40 hours', 'delivered', now() - interval '40 hours', NULL),
                (gen_random_uuid(), 'Poison', 1, '{}', now() - interval '90 days', 'failed', NULL, 'boom')`,
      );
      await owner.query(
        `INSERT INTO ${schema}.inbox (consumer, event_id, event_type, handled_at)
         VALUES ('${schema}', gen_random_uuid(), 'Old', now() - interval '73 hours'), ('${schema}', gen_random_uuid(), 'Recent', now() - interval '70 hours')`,
      );
    }
    // The first pruning runs 10 s after start.
    const old = ['orders', 'inventory', 'payments', 'notifications']
      .flatMap((schema) => [`(SELECT count(*) FROM ${schema}.outbox WHERE event_type = 'Old')`, `(SELECT count(*) FROM ${schema}.inbox WHERE event_type = 'Old')`])
      .join(' + ');
    await eventually(async () => expect(await count(`SELECT ${old} AS n`)).toBe(0), 20_000, 200);
    for (const schema of ['orders', 'inventory', 'payments', 'notifications']) {
      expect(await count(`SELECT count(*) AS n FROM ${schema}.outbox WHERE event_type = 'Old'`)).toBe(0);
      expect(await count(`SELECT count(*) AS n FROM ${schema}.outbox WHERE event_type IN ('Recent', 'Poison')`)).toBe(2);
      expect(await count(`SELECT count(*) AS n FROM ${schema}.inbox WHERE event_type = 'Old'`)).toBe(0);
      expect(await count(`SELECT count(*) AS n FROM ${schema}.inbox WHERE event_type = 'Recent'`)).toBe(1);
    }
  }, 30_000);
});
