import { sql, type Generated, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { PageResult } from '@shop/contract-kit';
import { fetchPage, typedDb } from '@shop/platform';
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

/**
 * Inserts the order and its items in one statement (one round trip); undefined when another
 * request took the same key first (then no item is written either).
 */
export async function insertOrder(tx: Transaction<any>, order: NewOrder): Promise<StoredOrder | undefined> {
  const { rows } = await sql<StoredOrder>`
    WITH o AS (
      INSERT INTO orders.orders (id, customer_id, total_cents, idempotency_key, request_hash, status, cancel_reason)
      VALUES (${order.id}, ${order.customer_id}, ${order.total_cents}, ${order.idempotency_key}, ${order.request_hash}, 'pending', NULL)
      ON CONFLICT ON CONSTRAINT one_order_per_key DO NOTHING
      RETURNING *
    ), items AS (
      INSERT INTO orders.order_items (order_id, line, product_id, quantity, unit_price_cents)
      SELECT o.id, l.line - 1, l.product_id, l.quantity, l.unit_price_cents
      FROM o, unnest(${order.lines.map((line) => line.product_id)}::uuid[], ${order.lines.map((line) => line.quantity)}::int[], ${order.lines.map((line) => line.unit_price_cents)}::int[])
        WITH ORDINALITY AS l(product_id, quantity, unit_price_cents, line)
    )
    SELECT * FROM o`.execute(tx);
  return rows[0];
}

export async function findByKey(db: Kysely<any>, customerId: string, key: string): Promise<StoredOrder | undefined> {
  return asDb(db)
    .selectFrom('orders.orders')
    .selectAll()
    .where('customer_id', '=', customerId)
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
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
