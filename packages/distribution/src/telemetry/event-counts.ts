import type pg from 'pg';
import { quoteIdent } from '@shop/platform';

/** Events a module published (its outbox) and handled (its inbox) in a window. */
export interface EventCounts {
  readonly published: number;
  readonly consumed: number;
}

/**
 * Read from the module's own outbox and inbox (messaging-migrations.ts), the record of every
 * event it wrote and handled, whichever process did it: no second count to keep. Outbox rows
 * are deleted after their retention (7 days by default), so a longer window undercounts
 * what was published. Undefined when the module's tables do not exist in this database.
 */
export async function readEventCounts(pool: pg.Pool, schema: string, window: { from: Date; to: Date }): Promise<EventCounts | undefined> {
  const name = quoteIdent(schema);
  const { rows: exists } = await pool.query<{ found: boolean }>(`SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL AS found`, [
    `${name}.outbox`,
    `${name}.inbox`,
  ]);
  if (!exists[0]?.found) return undefined;
  const range = [window.from.toISOString(), window.to.toISOString()];
  const { rows } = await pool.query<{ published: number; consumed: number }>(
    `SELECT (SELECT count(*) FROM ${name}.outbox WHERE occurred_at BETWEEN $1 AND $2) AS published,
            (SELECT count(*) FROM ${name}.inbox WHERE handled_at BETWEEN $1 AND $2) AS consumed`,
    range,
  );
  return { published: Number(rows[0]!.published), consumed: Number(rows[0]!.consumed) };
}

/** Rows ever inserted into a module's outbox (events published) and inbox (events handled, one per consumer). */
export interface EventTotals {
  readonly module: string;
  /** Null when the table is not in this database. */
  readonly published: number | null;
  readonly handled: number | null;
}

/**
 * Running totals for live rates, from PostgreSQL's own table statistics (`n_tup_ins` of each
 * module's outbox and inbox), so every process reads what every process wrote, and neither a
 * publish nor a handler pays anything for it. What a reader differences between two reads:
 * - the server updates them within about a second of a commit (at most 10 s on a connection
 *   that goes idle: PostgreSQL's stats flush);
 * - an insert rolled back counts too (a handler that failed and will be retried), so under
 *   failures they read high; a duplicate skipped by the inbox (`ON CONFLICT DO NOTHING`) does not;
 * - they start again from 0 after `pg_stat_reset()` or a crash: a total that went down is a restart.
 * One catalog query, whatever the tables' size.
 */
export async function readEventTotals(pool: pg.Pool, schemas: readonly string[]): Promise<EventTotals[]> {
  const { rows } = await pool.query<{ schema: string; table: 'outbox' | 'inbox'; inserted: string }>(
    `SELECT n.nspname AS schema, c.relname AS table, pg_stat_get_tuples_inserted(c.oid) AS inserted
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ANY($1::text[]) AND c.relname IN ('outbox', 'inbox') AND c.relkind IN ('r', 'p')`,
    [schemas],
  );
  const total = (schema: string, table: string) => {
    const row = rows.find((candidate) => candidate.schema === schema && candidate.table === table);
    return row ? Number(row.inserted) : null;
  };
  return schemas.map((schema) => ({ module: schema, published: total(schema, 'outbox'), handled: total(schema, 'inbox') }));
}
