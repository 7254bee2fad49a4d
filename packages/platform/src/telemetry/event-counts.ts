import type pg from 'pg';
import { quoteIdent } from '../db/migrate.ts';

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
