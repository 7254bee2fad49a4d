import { randomUUID } from 'node:crypto';
import type { Generated } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyKeyReused } from '@shop/contract-kit';
import { Database, fingerprint, findIdempotent, idempotentCreate, type IdempotentTable } from '@shop/platform';
import { expectModuleError } from '@shop/platform/testing';
import { countOf, openWidgetsDb, sleep, type WidgetsDb } from './support.ts';

/** A table created once per (tenant, key), as orders and payments scope theirs by customer. */
interface RequestRow {
  id: string;
  tenant: string;
  idempotency_key: string | null;
  request_hash: string | null;
  name: string;
  created_at: Generated<Date>;
}

interface Tables {
  'widgets.requests': RequestRow;
}

const REQUESTS: IdempotentTable<Tables, 'widgets.requests', 'tenant' | 'idempotency_key'> = {
  table: 'widgets.requests',
  key: ['tenant', 'idempotency_key'],
  what: 'widget request',
};

let w: WidgetsDb;
let replica: Database;
beforeAll(async () => {
  w = await openWidgetsDb();
  await w.db.pool.query(`
    CREATE TABLE widgets.requests (
      id uuid PRIMARY KEY,
      tenant text NOT NULL,
      idempotency_key text,
      request_hash text,
      name text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT one_request_per_key UNIQUE (tenant, idempotency_key)
    )`);
  replica = w.openAnother();
});
afterAll(() => w?.close());

function request(tenant: string, key: string | null, name: string): Omit<RequestRow, 'created_at'> {
  return { id: randomUUID(), tenant, idempotency_key: key, request_hash: key === null ? null : fingerprint({ name }), name };
}

const rowsFor = (tenant: string) => countOf(w.db, 'SELECT count(*) AS n FROM widgets.requests WHERE tenant = $1', [tenant]);

describe('idempotentCreate', () => {
  it('creates the row the first time, and gives the same row back to the same request', async () => {
    const tenant = randomUUID();
    const key = randomUUID();
    const first = await idempotentCreate(w.db.kysely, REQUESTS, request(tenant, key, 'a'));
    expect(first.created).toBe(true);
    expect(first.row).toMatchObject({ tenant, idempotency_key: key, name: 'a' });
    expect(first.row.created_at).toBeInstanceOf(Date);

    const again = await idempotentCreate(w.db.kysely, REQUESTS, request(tenant, key, 'a'));
    expect(again).toEqual({ created: false, row: first.row });
    expect(await rowsFor(tenant)).toBe(1);
  });

  it('refuses the key with a different payload: idempotency_key_reused (422), and writes nothing', async () => {
    const tenant = randomUUID();
    const key = randomUUID();
    await idempotentCreate(w.db.kysely, REQUESTS, request(tenant, key, 'a'));
    const error = await expectModuleError(idempotentCreate(w.db.kysely, REQUESTS, request(tenant, key, 'b')), IdempotencyKeyReused, { detail: /different widget request/ });
    expect(error.status).toBe(422);
    expect(await rowsFor(tenant)).toBe(1);
  });

  it('scopes the key by every key column: the same key for another tenant is another row', async () => {
    const key = randomUUID();
    const [a, b] = [randomUUID(), randomUUID()];
    const first = await idempotentCreate(w.db.kysely, REQUESTS, request(a, key, 'x'));
    const second = await idempotentCreate(w.db.kysely, REQUESTS, request(b, key, 'x'));
    expect([first.created, second.created]).toEqual([true, true]);
    expect(second.row.id).not.toBe(first.row.id);
  });

  it('always creates a row without a key (a null key never conflicts)', async () => {
    const tenant = randomUUID();
    const results = [await idempotentCreate(w.db.kysely, REQUESTS, request(tenant, null, 'n')), await idempotentCreate(w.db.kysely, REQUESTS, request(tenant, null, 'n'))];
    expect(results.map((result) => result.created)).toEqual([true, true]);
    expect(await rowsFor(tenant)).toBe(2);
  });

  it('lets two replicas racing with the same key create one row, and only one of them says created', async () => {
    const tenant = randomUUID();
    const key = randomUUID();
    const attempts = Array.from({ length: 8 }, (_, i) =>
      (i % 2 === 0 ? w.db : replica).kysely.transaction().execute((trx) => idempotentCreate(trx, REQUESTS, request(tenant, key, 'same'))),
    );
    const results = await Promise.all(attempts);
    expect(results.filter((result) => result.created)).toHaveLength(1);
    expect(new Set(results.map((result) => result.row.id)).size).toBe(1);
    expect(await rowsFor(tenant)).toBe(1);
  });

  it('makes the loser of a race wait for the winner to commit, then answers with its row (or 422 for another payload)', async () => {
    const tenant = randomUUID();
    const key = randomUUID();
    let commit!: () => void;
    const held = new Promise<void>((resolve) => (commit = resolve));
    let inserted!: () => void;
    const winnerInserted = new Promise<void>((resolve) => (inserted = resolve));
    const winner = w.db.kysely.transaction().execute(async (trx) => {
      const result = await idempotentCreate(trx, REQUESTS, request(tenant, key, 'first'));
      inserted();
      await held;
      return result;
    });
    await winnerInserted;
    const same = replica.kysely.transaction().execute((trx) => idempotentCreate(trx, REQUESTS, request(tenant, key, 'first')));
    const other = replica.kysely.transaction().execute((trx) => idempotentCreate(trx, REQUESTS, request(tenant, key, 'second')));
    const settled = Promise.allSettled([same, other]);
    await sleep(100);
    commit();
    const won = await winner;
    expect(won.created).toBe(true);
    const [sameOutcome] = await settled;
    expect(sameOutcome).toEqual({ status: 'fulfilled', value: { created: false, row: won.row } });
    await expectModuleError(other, IdempotencyKeyReused);
    expect(await rowsFor(tenant)).toBe(1);
  });

  it('leaves nothing behind when the caller’s transaction rolls back, so a retry creates the row', async () => {
    const tenant = randomUUID();
    const key = randomUUID();
    await expect(
      w.db.kysely.transaction().execute(async (trx) => {
        await idempotentCreate(trx, REQUESTS, request(tenant, key, 'a'));
        throw new Error('the rest of the work failed');
      }),
    ).rejects.toThrow('the rest of the work failed');
    const retry = await idempotentCreate(w.db.kysely, REQUESTS, request(tenant, key, 'a'));
    expect(retry.created).toBe(true);
  });
});

describe('findIdempotent', () => {
  it('finds the row stored under the key, nothing for an unused key, and refuses another payload', async () => {
    const tenant = randomUUID();
    const key = randomUUID();
    expect(await findIdempotent(w.db.kysely, REQUESTS, { tenant, idempotency_key: key, request_hash: fingerprint({ name: 'a' }) })).toBeUndefined();
    const { row } = await idempotentCreate(w.db.kysely, REQUESTS, request(tenant, key, 'a'));
    expect(await findIdempotent(w.db.kysely, REQUESTS, { tenant, idempotency_key: key, request_hash: fingerprint({ name: 'a' }) })).toEqual(row);
    await expectModuleError(findIdempotent(w.db.kysely, REQUESTS, { tenant, idempotency_key: key, request_hash: fingerprint({ name: 'b' }) }), IdempotencyKeyReused);
  });
});
