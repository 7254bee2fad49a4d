import { sql, type Generated, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { PageResult } from '@shop/contract-kit';
import { fetchPage, findIdempotent, idempotentCreate, typedDb, type IdempotentCreated, type IdempotentTable } from '@shop/platform';
import type { Order, OrderStatus } from '@shop/orders-contract';
import type { PricedLine } from './domain.ts';

/** SQL on the orders schema only. */
interface OrderRow {
  id: string;
  customer_id: string;
  status: OrderStatus;
  total_cents: number;
  cancel_reason: string | null;
  idempotency_key: string;
  request_hash: string;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

interface ItemRow {
  order_id: string;
  line: number;
  product_id: string;
  quantity: number;
  unit_price_cents: number;
}

interface OrdersTables {
  'orders.orders': OrderRow;
  'orders.order_items': ItemRow;
}

const asDb = typedDb<OrdersTables>;
export type StoredOrder = Selectable<OrderRow>;

export function toOrder(row: StoredOrder, items: readonly Pick<ItemRow, 'product_id' | 'quantity' | 'unit_price_cents'>[]): Order {
  return {
    id: row.id,
    customer_id: row.customer_id,
    status: row.status,
    items: items.map(({ product_id, quantity, unit_price_cents }) => ({ product_id, quantity, unit_price_cents })),
    total_cents: row.total_cents,
    cancel_reason: row.cancel_reason,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export interface NewOrder {
  id: string;
  customer_id: string;
  total_cents: number;
  idempotency_key: string;
  request_hash: string;
  lines: readonly PricedLine[];
}

const ORDER_KEY: IdempotentTable<OrdersTables, 'orders.orders', 'customer_id' | 'idempotency_key'> = {
  table: 'orders.orders',
  key: ['customer_id', 'idempotency_key'],
  what: 'order',
};

/**
 * Creates the order once per (customer, key), and its items only when this call created it; a
 * retry of the same request gets the stored order back (its items are read by the caller).
 */
export async function createOrder(tx: Transaction<any>, order: NewOrder): Promise<IdempotentCreated<StoredOrder>> {
  const { lines, ...values } = order;
  const result = await idempotentCreate(tx, ORDER_KEY, { ...values, status: 'pending', cancel_reason: null });
  if (result.created) await insertItems(tx, order.id, lines);
  return result;
}

async function insertItems(tx: Transaction<any>, orderId: string, lines: readonly PricedLine[]): Promise<void> {
  if (lines.length === 0) return;
  await asDb(tx)
    .insertInto('orders.order_items')
    .values(lines.map((line, index) => ({ order_id: orderId, line: index, product_id: line.product_id, quantity: line.quantity, unit_price_cents: line.unit_price_cents })))
    .execute();
}

/** The order stored under this (customer, key), if any; refused (422) when stored for another request. */
export async function findByKey(db: Kysely<any>, request: { customer_id: string; idempotency_key: string; request_hash: string }): Promise<StoredOrder | undefined> {
  return findIdempotent(db, ORDER_KEY, request);
}

export async function findOrder(db: Kysely<any> | Transaction<any>, id: string, lock = false): Promise<StoredOrder | undefined> {
  const query = asDb(db).selectFrom('orders.orders').selectAll().where('id', '=', id);
  return (lock ? query.forUpdate() : query).executeTakeFirst();
}

/**
 * The order with its items in one statement: a read is one round trip, not two. Written as SQL,
 * not built: this is the hottest read, and Kysely's builder took 10 us a call to assemble it.
 */
export async function findOrderWithItems(db: Kysely<any>, id: string): Promise<Order | undefined> {
  const { rows } = await sql<StoredOrder & { items: Pick<ItemRow, 'product_id' | 'quantity' | 'unit_price_cents'>[] }>`
    SELECT o.*, COALESCE(
      (SELECT json_agg(json_build_object('product_id', i.product_id, 'quantity', i.quantity, 'unit_price_cents', i.unit_price_cents) ORDER BY i.line)
       FROM orders.order_items i WHERE i.order_id = o.id),
      '[]') AS items
    FROM orders.orders o WHERE o.id = ${id}`.execute(db);
  const row = rows[0];
  return row && toOrder(row, row.items);
}

export async function itemsOf(db: Kysely<any> | Transaction<any>, orderIds: readonly string[]): Promise<Map<string, ItemRow[]>> {
  const byOrder = new Map<string, ItemRow[]>(orderIds.map((id) => [id, []]));
  if (orderIds.length === 0) return byOrder;
  const rows = await asDb(db).selectFrom('orders.order_items').selectAll().where('order_id', 'in', [...orderIds]).orderBy('line').execute();
  for (const row of rows) byOrder.get(row.order_id)!.push(row);
  return byOrder;
}

export async function withItems(db: Kysely<any> | Transaction<any>, row: StoredOrder): Promise<Order> {
  return toOrder(row, (await itemsOf(db, [row.id])).get(row.id) ?? []);
}

export async function updateStatus(tx: Transaction<any>, id: string, status: OrderStatus, cancelReason: string | null): Promise<StoredOrder> {
  return asDb(tx)
    .updateTable('orders.orders')
    .set({ status, updated_at: sql`now()`, ...(cancelReason !== null ? { cancel_reason: cancelReason } : {}) })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listForCustomer(db: Kysely<any>, customerId: string, page: number): Promise<PageResult<Order>> {
  const { rows, has_more } = await fetchPage(
    asDb(db).selectFrom('orders.orders').selectAll().where('customer_id', '=', customerId).orderBy('created_at', 'desc').orderBy('id', 'desc'),
    page,
  );
  const items = await itemsOf(db, rows.map((row) => row.id));
  return { items: rows.map((row) => toOrder(row, items.get(row.id) ?? [])), has_more };
}
