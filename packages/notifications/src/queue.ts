import { sql, type Kysely, type Transaction } from 'kysely';
import type { StoredNotification } from './repository.ts';

/**
 * The sender's SQL: notifications due to be sent are a queue in the notifications table
 * (`next_attempt_at` is set while a row still has a try left).
 */

/**
 * Takes up to `limit` due notifications and leases them for `leaseMs`: their
 * `next_attempt_at` moves to the lease's end, so another sender (a sweep here, or another
 * instance) leaves them alone while they are sent, and takes them again only if this one
 * died mid-send. The claim commits at once: no transaction stays open across the network.
 */
export async function claimDue(db: Kysely<any>, limit: number, leaseMs: number): Promise<StoredNotification[]> {
  const { rows } = await sql<StoredNotification>`
    UPDATE notifications.notifications
    SET next_attempt_at = now() + make_interval(secs => ${leaseMs / 1000}), updated_at = now()
    WHERE id IN (
      SELECT id FROM notifications.notifications
      WHERE status IN ('pending', 'failed') AND next_attempt_at <= now()
      ORDER BY next_attempt_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED)
    RETURNING *`.execute(db);
  return rows;
}

/** Marks a leased notification sent; false if it was no longer waiting (settled elsewhere). */
export async function markSent(tx: Transaction<any>, id: string): Promise<boolean> {
  const result = await sql`
    UPDATE notifications.notifications
    SET status = 'sent', attempts = attempts + 1, detail = NULL, next_attempt_at = NULL, sent_at = now(), updated_at = now()
    WHERE id = ${id} AND status IN ('pending', 'failed')`.execute(tx);
  return Number(result.numAffectedRows ?? 0) > 0;
}

/** Records a failed try; `retryInMs` null means failed for good (no further tries). */
export async function markFailed(tx: Transaction<any>, id: string, detail: string, retryInMs: number | null): Promise<void> {
  await sql`
    UPDATE notifications.notifications
    SET status = 'failed', attempts = attempts + 1, detail = ${detail.slice(0, 2_000)}, updated_at = now(),
        next_attempt_at = ${retryInMs === null ? null : sql`now() + make_interval(secs => ${retryInMs / 1000})`}
    WHERE id = ${id} AND status IN ('pending', 'failed')`.execute(tx);
}
