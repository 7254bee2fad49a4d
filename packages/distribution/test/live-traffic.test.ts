import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { ensureTrafficTables, readEventTotals, readRecentTraffic, writeSnapshot } from '../src/index.ts';
import { createTestDatabase, eventually, type TestDatabase } from '@shop/platform/testing';

/** What the console's live rates read: recent call buckets and running totals of events, from the database. */
describe('live traffic counters', () => {
  let testDb: TestDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    testDb = await createTestDatabase(inject('pgAdminUrl'));
    pool = new pg.Pool({ connectionString: testDb.url, max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    await testDb?.drop();
  });

  it('answers empty before anything was recorded', async () => {
    const recent = await readRecentTraffic(pool);
    expect(recent).toMatchObject({ calls: [], requests: [], processes: [] });
    expect(recent.since.getTime()).toBeLessThan(recent.at.getTime());
  });

  it("gives the last minutes' buckets, every process added up, each call once (not the callee's count of it)", async () => {
    await ensureTrafficTables(pool);
    const snapshot = (calls: [string, number][], requests: [string, number][] = []) => ({
      calls: new Map(calls),
      usage: new Map(requests.map(([module, count]) => [module, { requests: count, cpuMicros: 0 }])),
    });
    await writeSnapshot(pool, 'main', snapshot([['orders\tinventory\tgetProducts\tin-process', 3], ['http\torders\tcreateOrder\tin-process', 4]], [['orders', 4]]));
    await writeSnapshot(pool, 'copy', snapshot([['orders\tinventory\tgetProducts\tremote', 2]], [['orders', 1]]));
    await writeSnapshot(pool, 'main', snapshot([['remote:orders\tinventory\tgetProducts\tinternal', 2]]));
    // An hour ago: outside the window.
    await writeSnapshot(pool, 'old', snapshot([['orders\tinventory\tgetProducts\tin-process', 100]]), new Date(Date.now() - 3_600_000));

    const recent = await readRecentTraffic(pool);
    const edges = Object.fromEntries(recent.calls.map((c) => [`${c.caller} ${c.callee}`, c.calls]));
    // Two buckets if the minute turned between the writes: sum them.
    const sum = (caller: string, callee: string) => recent.calls.filter((c) => c.caller === caller && c.callee === callee).reduce((total, c) => total + c.calls, 0);
    expect(Object.keys(edges).sort()).toEqual(['http orders', 'orders inventory']);
    expect(sum('orders', 'inventory')).toBe(5);
    expect(sum('http', 'orders')).toBe(4);
    expect(recent.requests.filter((r) => r.module === 'orders').reduce((total, r) => total + r.requests, 0)).toBe(5);
    const byWay = (via: string) => recent.calls.filter((c) => c.caller === 'orders' && c.via === via).reduce((total, c) => total + c.calls, 0);
    expect([byWay('in-process'), byWay('remote')]).toEqual([3, 2]);
    expect(recent.processes).toEqual(['copy', 'main']);
    for (const row of recent.calls) expect(row.minute.getTime()).toBeGreaterThanOrEqual(recent.since.getTime());
  });

  it("counts rows inserted into each module's outbox and inbox, whoever inserted them; null where there are none", async () => {
    await pool.query(`CREATE SCHEMA shop_a; CREATE TABLE shop_a.outbox (id uuid PRIMARY KEY); CREATE TABLE shop_a.inbox (id uuid PRIMARY KEY)`);
    const before = await readEventTotals(pool, ['shop_a', 'shop_b']);
    expect(before).toEqual([
      { module: 'shop_a', published: expect.any(Number), handled: expect.any(Number) },
      { module: 'shop_b', published: null, handled: null },
    ]);
    // Another connection, as another process would: the statistics are the server's.
    const other = new pg.Client({ connectionString: testDb.url });
    await other.connect();
    try {
      for (let i = 0; i < 3; i += 1) await other.query('INSERT INTO shop_a.outbox VALUES ($1)', [randomUUID()]);
      await other.query('INSERT INTO shop_a.inbox VALUES ($1)', [randomUUID()]);
      await other.query('SELECT pg_stat_force_next_flush()');
      await other.query('SELECT 1'); // the flush happens when the backend goes idle after a statement
      await eventually(async () => {
        const [a] = await readEventTotals(pool, ['shop_a']);
        expect(a!.published! - before[0]!.published!).toBe(3);
        expect(a!.handled! - before[0]!.handled!).toBe(1);
      }, 15_000);
    } finally {
      await other.end();
    }
  });
});
