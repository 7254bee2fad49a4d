import { sql, type Generated, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { PageResult } from '@shop/contract-kit';
import { fetchPage, typedDb } from '@shop/platform';
import type { Channel, Contact, Notification, NotificationKind, NotificationStatus, PushSubscription } from '@shop/notifications-contract';
import type { OrderFacts, PlannedNotification, Recipient } from './domain.ts';

/** SQL on the notifications schema only. */
interface ContactRow {
  customer_id: string;
  email: string | null;
  push_subscription: PushSubscription | null;
  updated_at: Generated<Date>;
}

interface NotificationRow {
  id: string;
  event_id: string;
  customer_id: string;
  order_id: string;
  kind: NotificationKind;
  channel: Channel;
  status: NotificationStatus;
  recipient: Recipient | null;
  content: OrderFacts;
  attempts: Generated<number>;
  detail: string | null;
  next_attempt_at: Date | null;
  sent_at: Date | null;
  /** The trace the notification was queued in; its send continues it. */
  traceparent: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

interface NotificationsTables {
  'notifications.contacts': ContactRow;
  'notifications.notifications': NotificationRow;
}

const asDb = typedDb<NotificationsTables>;
export type StoredNotification = Selectable<NotificationRow>;

/** jsonb parameters go as JSON text: node-postgres would turn a JS array into a SQL array. */
const json = (value: unknown) => JSON.stringify(value) as any;

export function toContact(row: Selectable<ContactRow>): Contact {
  return { customer_id: row.customer_id, email: row.email, push_subscription: row.push_subscription, updated_at: row.updated_at.toISOString() };
}

export function toNotification(row: StoredNotification): Notification {
  const { id, customer_id, channel, kind, order_id, status, attempts, detail } = row;
  return { id, customer_id, channel, kind, order_id, status, attempts, detail, created_at: row.created_at.toISOString() };
}

export async function upsertContact(db: Kysely<any>, customerId: string, email: string | null, push: PushSubscription | null): Promise<Contact> {
  const row = await asDb(db)
    .insertInto('notifications.contacts')
    .values({ customer_id: customerId, email, push_subscription: json(push) })
    .onConflict((conflict) => conflict.column('customer_id').doUpdateSet({ email, push_subscription: json(push), updated_at: sql`now()` }))
    .returningAll()
    .executeTakeFirstOrThrow();
  return toContact(row);
}

export async function findContact(db: Kysely<any> | Transaction<any>, customerId: string): Promise<Selectable<ContactRow> | undefined> {
  return asDb(db).selectFrom('notifications.contacts').selectAll().where('customer_id', '=', customerId).executeTakeFirst();
}

/** Forgets a push subscription the push service called gone, unless the customer replaced it meanwhile. */
export async function dropPushSubscription(tx: Transaction<any>, customerId: string, endpoint: string): Promise<void> {
  await asDb(tx)
    .updateTable('notifications.contacts')
    .set({ push_subscription: null, updated_at: sql`now()` })
    .where('customer_id', '=', customerId)
    .where(sql<boolean>`push_subscription->>'endpoint' = ${endpoint}`)
    .execute();
}

export interface NewNotifications {
  event_id: string;
  traceparent: string | null;
  customer_id: string;
  order_id: string;
  kind: NotificationKind;
  content: OrderFacts;
  planned: readonly PlannedNotification[];
}

/** Inserts one row per planned channel; a row already there for (event, channel) is kept as is. */
export async function insertNotifications(tx: Transaction<any>, batch: NewNotifications, newId: () => string): Promise<number> {
  const { planned, content, ...event } = batch;
  const result = await asDb(tx)
    .insertInto('notifications.notifications')
    .values(
      planned.map((plan) => ({
        id: newId(),
        ...event,
        ...plan,
        recipient: json(plan.recipient),
        content: json(content),
        next_attempt_at: plan.status === 'pending' ? sql<Date>`now()` : null,
      })),
    )
    .onConflict((conflict) => conflict.constraint('one_notification_per_event_and_channel').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0);
}

export async function listForCustomer(db: Kysely<any>, customerId: string, page: number): Promise<PageResult<Notification>> {
  const { rows, has_more } = await fetchPage(
    asDb(db).selectFrom('notifications.notifications').selectAll().where('customer_id', '=', customerId).orderBy('created_at', 'desc').orderBy('id', 'desc'),
    page,
  );
  return { items: rows.map(toNotification), has_more };
}
