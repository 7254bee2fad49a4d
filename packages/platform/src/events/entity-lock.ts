import { sql, type Transaction } from 'kysely';

/**
 * Serialises the transactions that decide about the same entities: each waits until no other
 * open transaction holds any of them, and holds them until it commits or rolls back.
 *
 * Why it is needed: under READ COMMITTED a rule such as "reserve unless the order was
 * cancelled" reads what is committed, and a racing transaction (another replica handling the
 * cancellation) commits nothing until it is done, so each can miss the other and both act.
 * With the entity locked first, the second one waits; once it has the lock, every statement
 * it runs sees what the first one committed.
 *
 * Advisory locks keyed by a 64-bit hash of `<scope>:<id>`, taken in one statement and in hash
 * order, so two transactions locking overlapping sets can never deadlock on them. A hash
 * collision only makes two unrelated entities wait for each other, never lets two act at once.
 */
export async function lockEntities(trx: Transaction<any>, scope: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const keys = [...new Set(ids.map((id) => `${scope}:${id.toLowerCase()}`))];
  await sql`
    SELECT pg_advisory_xact_lock(k)
    FROM (SELECT DISTINCT hashtextextended(key, 0) AS k FROM unnest(${keys}::text[]) AS key ORDER BY 1) AS ordered`.execute(trx);
}
