import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedEntities } from '@shop/platform';
import { countOf, openWidgetsDb, type WidgetsDb } from './support.ts';

let w: WidgetsDb;
beforeAll(async () => {
  w = await openWidgetsDb();
  // Two modules' tables of the same shape, as inventory and payments each keep one.
  for (const schema of ['widgets', 'gadgets']) {
    await w.db.pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await w.db.pool.query(`CREATE TABLE ${schema}.closed_orders (order_id uuid PRIMARY KEY, closed_at timestamptz NOT NULL DEFAULT now())`);
  }
});
afterAll(() => w?.close());

const widgets = closedEntities({ table: 'widgets.closed_orders', id: 'order_id' });
const gadgets = closedEntities({ table: 'gadgets.closed_orders', id: 'order_id' });

describe('closedEntities', () => {
  it('records an entity as closed once, however often it is closed', async () => {
    const id = randomUUID();
    expect(await widgets.isClosed(w.db.kysely, id)).toBe(false);
    await widgets.markClosed(w.db.kysely, id);
    await widgets.markClosed(w.db.kysely, id.toUpperCase());
    expect(await widgets.isClosed(w.db.kysely, id)).toBe(true);
    expect(await widgets.isClosed(w.db.kysely, id.toUpperCase())).toBe(true);
    expect(await countOf(w.db, 'SELECT count(*) AS n FROM widgets.closed_orders WHERE order_id = $1', [id])).toBe(1);
  });

  it('tells which of several are closed, lower-cased, and answers an empty question without asking', async () => {
    const [open, closed] = [randomUUID(), randomUUID()];
    await widgets.markClosed(w.db.kysely, closed);
    expect(await widgets.closedAmong(w.db.kysely, [open.toUpperCase(), closed.toUpperCase()])).toEqual(new Set([closed]));
    expect(await widgets.closedAmong(w.db.kysely, [])).toEqual(new Set());
  });

  it("keeps each module's table its own", async () => {
    const id = randomUUID();
    await gadgets.markClosed(w.db.kysely, id);
    expect(await gadgets.isClosed(w.db.kysely, id)).toBe(true);
    expect(await widgets.isClosed(w.db.kysely, id)).toBe(false);
  });

  it("writes with the caller's transaction: a rollback leaves the entity open", async () => {
    const id = randomUUID();
    await expect(
      w.db.kysely.transaction().execute(async (trx) => {
        await widgets.markClosed(trx, id);
        expect(await widgets.isClosed(trx, id)).toBe(true);
        expect(await widgets.isClosed(w.db.kysely, id)).toBe(false); // not committed yet
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await widgets.isClosed(w.db.kysely, id)).toBe(false);
  });
});
