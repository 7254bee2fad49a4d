import type { Insertable, Kysely, Selectable } from 'kysely';
import { assertSameRequest } from '../fingerprint.ts';

/**
 * A module's table whose rows are created once per idempotency key: the table (schema-qualified,
 * the module's own), the columns of the unique rule the key is arbitrated on (payments and orders
 * scope it by customer: `['customer_id', 'idempotency_key']`), and what a row is, for the
 * `idempotency_key_reused` message. The table has a `request_hash` column: the request's
 * fingerprint, to tell a replay from a reused key.
 */
export interface IdempotentTable<DB, TB extends keyof DB & string, K extends keyof DB[TB] & string> {
  readonly table: TB;
  readonly key: readonly [K, ...K[]];
  readonly what: string;
}

/** A request for such a row: its key's values and its fingerprint. */
export type IdempotentRequest<DB, TB extends keyof DB, K extends keyof DB[TB]> = { readonly [C in K]: Insertable<DB[TB]>[C & keyof Insertable<DB[TB]>] } & {
  readonly request_hash: string | null;
};

export interface IdempotentCreated<Row> {
  /** True when this call inserted the row; false when the key was taken (by a retry of the same request). */
  readonly created: boolean;
  readonly row: Row;
}

/**
 * Creates a row once per key, safe when retries race (across replicas too): in the caller's
 * transaction (or as one statement on a pool), `INSERT … ON CONFLICT (key) DO NOTHING RETURNING *`.
 * Inserted: `{ created: true, row }`: only then may the caller write the row's children and
 * publish its events (in the same transaction). Not inserted: the key's row, read back, is
 * committed (ON CONFLICT waits for a racing transaction to end); if it was stored for another
 * payload it is refused with `idempotency_key_reused` (422), else `{ created: false, row }`.
 *
 * Needs READ COMMITTED (PostgreSQL's default): the read must see the winner's commit. A key
 * column that is null never conflicts (a row without a key is always created). Another unique
 * rule of the table still raises its error (23505): a racing retry may lose on it before the
 * key's, so a caller with such a rule reads `findIdempotent` when it catches one.
 */
export async function idempotentCreate<DB, TB extends keyof DB & string, K extends keyof DB[TB] & string>(
  db: Kysely<any>,
  table: IdempotentTable<DB, TB, K>,
  values: Insertable<DB[TB]> & IdempotentRequest<DB, TB, K>,
): Promise<IdempotentCreated<Selectable<DB[TB]>>> {
  const inserted = await db
    .insertInto(table.table)
    .values(values as Record<string, unknown>)
    .onConflict((conflict) => conflict.columns([...table.key]).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { created: true, row: inserted as Selectable<DB[TB]> };
  const existing = await findIdempotent(db, table, values);
  if (!existing) throw new Error(`idempotency conflict without a stored ${table.what}`);
  return { created: false, row: existing };
}

/**
 * The row stored under this request's key, or undefined; one stored for another payload is
 * refused with `idempotency_key_reused` (422). Before `idempotentCreate`, it answers a retry
 * without redoing the work that precedes the insert (reading prices, checking the order).
 */
export async function findIdempotent<DB, TB extends keyof DB & string, K extends keyof DB[TB] & string>(
  db: Kysely<any>,
  table: IdempotentTable<DB, TB, K>,
  request: IdempotentRequest<DB, TB, K>,
): Promise<Selectable<DB[TB]> | undefined> {
  let query = db.selectFrom(table.table).selectAll();
  for (const column of table.key) query = query.where(column, '=', (request as Record<string, any>)[column]);
  const row = (await query.executeTakeFirst()) as (Selectable<DB[TB]> & { request_hash: string | null }) | undefined;
  if (row) assertSameRequest(row, request.request_hash, table.what);
  return row;
}

/**
 * Whether `error` is PostgreSQL's unique violation (23505), of `constraint` when one is named:
 * what a caller of `idempotentCreate` catches, outside its transaction, when the table has
 * another unique rule a racing retry can meet before the key's (then `findIdempotent` tells a
 * replay from a real conflict).
 */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const { code, constraint: violated } = (error ?? {}) as { code?: unknown; constraint?: unknown };
  return code === '23505' && (constraint === undefined || violated === constraint);
}
