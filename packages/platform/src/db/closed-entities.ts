import type { Kysely } from 'kysely';

/**
 * Entities of another module (orders) that this module has seen closed (cancelled), kept in a
 * table of its own schema, so a saga event about one arriving late (a retried OrderCreated
 * after its OrderCancelled) is ignored. The table: the entity's id as primary key, and
 * `closed_at timestamptz NOT NULL DEFAULT now()`:
 *
 *   CREATE TABLE closed_orders (order_id uuid PRIMARY KEY, closed_at timestamptz NOT NULL DEFAULT now());
 *
 * Every function takes the module's handle: its transaction where the answer must hold until
 * commit (the caller locks the entity first, `tx.lock`), or its pool.
 */
export interface ClosedEntities {
  /** Records the entity as closed; closing it again changes nothing. */
  markClosed(db: Kysely<any>, id: string): Promise<void>;
  isClosed(db: Kysely<any>, id: string): Promise<boolean>;
  /** Which of these were closed, lower-cased (uuids compare case-insensitively; their text is lower-case). */
  closedAmong(db: Kysely<any>, ids: readonly string[]): Promise<Set<string>>;
}

/** The closed-entity functions over one module's table, e.g. `closedEntities({ table: 'payments.closed_orders', id: 'order_id' })`. */
export function closedEntities(options: { readonly table: `${string}.${string}`; readonly id: string }): ClosedEntities {
  const { table, id: column } = options;
  return {
    async markClosed(db, id) {
      await db.insertInto(table).values({ [column]: id }).onConflict((conflict) => conflict.doNothing()).execute();
    },
    async isClosed(db, id) {
      return (await db.selectFrom(table).select(column).where(column, '=', id).executeTakeFirst()) !== undefined;
    },
    async closedAmong(db, ids) {
      if (ids.length === 0) return new Set();
      const rows = await db.selectFrom(table).select(column).where(column, 'in', [...ids]).execute();
      return new Set(rows.map((row) => String(row[column]).toLowerCase()));
    },
  };
}
