import { sql, type Generated, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Payment, PaymentStatus } from '@shop/payments-contract';
import { closedEntities, findIdempotent, idempotentCreate, typedDb, type IdempotentCreated, type IdempotentTable } from '@shop/platform';

/** SQL on the payments schema only. */
interface PaymentRow {
  id: string;
  order_id: string;
  customer_id: string;
  amount_cents: number;
  payment_method: string;
  status: PaymentStatus;
  failure_reason: string | null;
  provider_ref: string | null;
  idempotency_key: string;
  request_hash: string;
  refund_requested_at: Date | null;
  refund_ref: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

interface PaymentsTables {
  'payments.payments': PaymentRow;
}

const asDb = typedDb<PaymentsTables>;
export type StoredPayment = Selectable<PaymentRow>;
export type NewPayment = Pick<PaymentRow, 'id' | 'order_id' | 'customer_id' | 'amount_cents' | 'payment_method' | 'idempotency_key' | 'request_hash'>;

export function toPayment(row: StoredPayment): Payment {
  return {
    id: row.id,
    order_id: row.order_id,
    amount_cents: row.amount_cents,
    status: row.status,
    failure_reason: row.failure_reason,
    provider_ref: row.provider_ref,
    created_at: row.created_at.toISOString(),
  };
}

const PAYMENT_KEY: IdempotentTable<PaymentsTables, 'payments.payments', 'customer_id' | 'idempotency_key'> = {
  table: 'payments.payments',
  key: ['customer_id', 'idempotency_key'],
  what: 'payment',
};

/**
 * Creates a `pending` payment once per (customer, key): a retry of the same request gets the
 * stored one (`created: false`). Another rule (the order already has a payment in flight or
 * captured) throws its unique violation.
 */
export async function createPending(tx: Transaction<any>, payment: NewPayment): Promise<IdempotentCreated<StoredPayment>> {
  return idempotentCreate(tx, PAYMENT_KEY, { ...payment, status: 'pending', failure_reason: null, provider_ref: null, refund_requested_at: null, refund_ref: null });
}

/** The payment stored under this (customer, key), if any; refused (422) when stored for another request. */
export async function findByKey(db: Kysely<any>, request: Pick<NewPayment, 'customer_id' | 'idempotency_key' | 'request_hash'>): Promise<StoredPayment | undefined> {
  return findIdempotent(db, PAYMENT_KEY, request);
}

export async function findPayment(db: Kysely<any> | Transaction<any>, id: string): Promise<StoredPayment | undefined> {
  return asDb(db).selectFrom('payments.payments').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listForOrder(db: Kysely<any>, orderId: string): Promise<StoredPayment[]> {
  return asDb(db).selectFrom('payments.payments').selectAll().where('order_id', '=', orderId).orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
}

/** Orders whose cancellation payments has handled: a capture settling later is refunded. */
export const { markClosed: markOrderClosed, isClosed: isOrderClosed } = closedEntities({ table: 'payments.closed_orders', id: 'order_id' });

/** pending → captured|failed; undefined when it was no longer pending (someone settled it first). */
export async function settle(
  tx: Transaction<any>,
  id: string,
  outcome: { status: 'captured' | 'failed'; provider_ref: string | null; failure_reason: string | null },
): Promise<StoredPayment | undefined> {
  return asDb(tx)
    .updateTable('payments.payments')
    .set({ ...outcome, updated_at: sql`now()` })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .returningAll()
    .executeTakeFirst();
}

/** Marks the captured payments of an order (or one payment) as to be refunded; returns those newly marked. */
export async function requestRefund(tx: Transaction<any>, where: { order_id: string } | { id: string }): Promise<StoredPayment[]> {
  const query = asDb(tx)
    .updateTable('payments.payments')
    .set({ refund_requested_at: sql`now()`, updated_at: sql`now()` })
    .where('status', '=', 'captured')
    .where('refund_requested_at', 'is', null);
  const scoped = 'id' in where ? query.where('id', '=', where.id) : query.where('order_id', '=', where.order_id);
  return scoped.returningAll().execute();
}

/** captured (refund requested) → refunded; undefined when already done. */
export async function completeRefund(tx: Transaction<any>, id: string, refundRef: string): Promise<StoredPayment | undefined> {
  return asDb(tx)
    .updateTable('payments.payments')
    .set({ status: 'refunded', refund_ref: refundRef, updated_at: sql`now()` })
    .where('id', '=', id)
    .where('status', '=', 'captured')
    .where('refund_requested_at', 'is not', null)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Work left unfinished for at least `quietMs` (a crash, an outage): charges still pending,
 * refunds requested and not done. Younger rows are still being worked on by their request.
 */
export async function findUnsettled(db: Kysely<any>, quietMs: number, replayWindowMs: number, limit: number): Promise<StoredPayment[]> {
  return asDb(db)
    .selectFrom('payments.payments')
    .selectAll()
    .where((eb) =>
      eb.or([
        // A charge older than the provider's idempotency window is an operator's to settle (see strandedCharges).
        eb.and([eb('status', '=', 'pending'), eb('created_at', '>', sql<Date>`now() - make_interval(secs => ${replayWindowMs / 1000})`)]),
        eb.and([eb('status', '=', 'captured'), eb('refund_requested_at', 'is not', null)]),
      ]),
    )
    .where('updated_at', '<=', sql<Date>`now() - make_interval(secs => ${quietMs / 1000})`)
    .orderBy('updated_at')
    .limit(limit)
    .execute();
}

/** Charges pending beyond the provider's idempotency window: asking again could charge twice. */
export async function strandedCharges(db: Kysely<any>, replayWindowMs: number): Promise<string[]> {
  const rows = await asDb(db)
    .selectFrom('payments.payments')
    .select('id')
    .where('status', '=', 'pending')
    .where('created_at', '<=', sql<Date>`now() - make_interval(secs => ${replayWindowMs / 1000})`)
    .orderBy('created_at')
    .limit(100)
    .execute();
  return rows.map((row) => row.id);
}

/** Sends a row that could not be finished to the back of the reconciler's queue. */
export async function deferUnsettled(db: Kysely<any>, id: string): Promise<void> {
  await asDb(db).updateTable('payments.payments').set({ updated_at: sql`now()` }).where('id', '=', id).execute();
}
