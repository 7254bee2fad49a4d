import { sql, type Generated, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { PageResult } from '@shop/contract-kit';
import { closedEntities, fetchPage, findIdempotent, idempotentCreate, typedDb, type IdempotentCreated, type IdempotentTable } from '@shop/platform';
import type { Product, Reservation } from '@shop/inventory-contract';
import type { Line, StockLevel } from './domain.ts';

/** SQL on the inventory schema only. */
interface ProductRow {
  id: string;
  sku: string;
  name: string;
  price_cents: number;
  stock_quantity: number;
  reserved_quantity: Generated<number>;
  /** The sum of the ratings of the product's reviews (bigint, parsed as a number). */
  rating_sum: Generated<number>;
  review_count: Generated<number>;
  idempotency_key: string | null;
  request_hash: string | null;
  created_at: Generated<Date>;
}

interface ReservationRow {
  id: string;
  order_id: string;
  product_id: string;
  quantity: number;
  status: Reservation['status'];
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

interface InventoryTables {
  'inventory.products': ProductRow;
  'inventory.reservations': ReservationRow;
}

const asDb = typedDb<InventoryTables>;

const PRODUCT_COLUMNS = ['id', 'sku', 'name', 'price_cents', 'stock_quantity', 'reserved_quantity', 'rating_sum', 'review_count', 'created_at', 'idempotency_key', 'request_hash'] as const;

export function toProduct(row: Selectable<ProductRow>): Product {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    price_cents: row.price_cents,
    stock_quantity: row.stock_quantity,
    reserved_quantity: row.reserved_quantity,
    ...ratingSummary(row.rating_sum, row.review_count),
    created_at: row.created_at.toISOString(),
  };
}

/**
 * The average of `count` ratings summing to `sum`, rounded to 2 decimals in integer arithmetic
 * (so 4.665 cannot come out as 4.66), and the count. A count of 0 or less (below 0 only for a
 * moment: a removal handled before its posting) is no review yet: null and 0.
 */
export function ratingSummary(sum: number, count: number): Pick<Product, 'rating_average' | 'review_count'> {
  if (count <= 0) return { rating_average: null, review_count: 0 };
  return { rating_average: Math.round((sum * 100) / count) / 100, review_count: count };
}

function toReservation(row: Selectable<ReservationRow>): Reservation {
  return {
    id: row.id,
    order_id: row.order_id,
    product_id: row.product_id,
    quantity: row.quantity,
    status: row.status,
    created_at: row.created_at.toISOString(),
  };
}

export type NewProduct = Omit<Selectable<ProductRow>, 'reserved_quantity' | 'rating_sum' | 'review_count' | 'created_at'>;

const PRODUCT_KEY: IdempotentTable<InventoryTables, 'inventory.products', 'idempotency_key'> = { table: 'inventory.products', key: ['idempotency_key'], what: 'product' };

/** Creates a product once per idempotency key (always, without one); the SKU's unique rule still throws (23505). */
export async function createProduct(db: Kysely<any>, product: NewProduct): Promise<IdempotentCreated<Selectable<ProductRow>>> {
  return idempotentCreate(db, PRODUCT_KEY, product);
}

/** The product stored under this key, if any; refused (422) when stored for another request. */
export async function findByIdempotencyKey(db: Kysely<any>, request: Pick<NewProduct, 'idempotency_key' | 'request_hash'>): Promise<Selectable<ProductRow> | undefined> {
  return findIdempotent(db, PRODUCT_KEY, request);
}

export async function findProduct(db: Kysely<any>, id: string): Promise<Selectable<ProductRow> | undefined> {
  return asDb(db).selectFrom('inventory.products').select(PRODUCT_COLUMNS).where('id', '=', id).executeTakeFirst();
}

export async function findProducts(db: Kysely<any>, ids: readonly string[]): Promise<Selectable<ProductRow>[]> {
  if (ids.length === 0) return [];
  return asDb(db).selectFrom('inventory.products').select(PRODUCT_COLUMNS).where('id', 'in', [...ids]).execute();
}

export async function listProducts(db: Kysely<any>, page: number): Promise<PageResult<Product>> {
  const { rows, has_more } = await fetchPage(asDb(db).selectFrom('inventory.products').select(PRODUCT_COLUMNS).orderBy('created_at', 'desc').orderBy('id', 'desc'), page);
  return { items: rows.map(toProduct), has_more };
}

/** Moves stock on hand, only if it stays within [reserved, max]; undefined when refused or unknown. */
export async function adjustStock(db: Kysely<any>, id: string, delta: number, max: number): Promise<Selectable<ProductRow> | undefined> {
  return asDb(db)
    .updateTable('inventory.products')
    .set({ stock_quantity: sql`stock_quantity + ${delta}` })
    .where('id', '=', id)
    .where(sql<boolean>`stock_quantity + ${delta} >= reserved_quantity AND stock_quantity + ${delta} <= ${max}`)
    .returning(PRODUCT_COLUMNS)
    .executeTakeFirst();
}

/** Locks the products' rows in id order (the one lock order everywhere: no deadlocks). */
export async function lockStock(tx: Transaction<any>, ids: readonly string[]): Promise<StockLevel[]> {
  if (ids.length === 0) return [];
  return asDb(tx)
    .selectFrom('inventory.products')
    .select(['id', 'stock_quantity', 'reserved_quantity'])
    .where('id', 'in', [...ids])
    .orderBy('id')
    .forUpdate()
    .execute();
}

/** Changes reserved (and, when committing, on-hand) quantities by each line, in one statement. */
export async function moveQuantities(tx: Transaction<any>, lines: readonly Line[], change: { reserved: 1 | -1; stock: 0 | -1 }): Promise<void> {
  if (lines.length === 0) return;
  await sql`
    UPDATE inventory.products AS p
    SET reserved_quantity = p.reserved_quantity + ${change.reserved} * m.quantity,
        stock_quantity = p.stock_quantity + ${change.stock} * m.quantity
    FROM unnest(${lines.map((line) => line.product_id)}::uuid[], ${lines.map((line) => line.quantity)}::int[]) AS m(product_id, quantity)
    WHERE p.id = m.product_id`.execute(tx);
}

/** A change to a product's rating summary: a rating added (ReviewPosted) or taken out (ReviewRemoved). */
export interface RatingChange {
  product_id: string;
  /** Signed: +rating for a posting, -rating for a removal. */
  rating: number;
  /** +1 for a posting, -1 for a removal. */
  count: 1 | -1;
}

/**
 * Adds each change to its product's rating sum and review count, in one statement for the lot
 * (summed per product first, so a product named twice is changed once by both). Only additions:
 * changes commute, in whatever order their events arrive. A product inventory does not know is
 * left alone.
 */
export async function changeRatings(tx: Transaction<any>, changes: readonly RatingChange[]): Promise<void> {
  if (changes.length === 0) return;
  await sql`
    UPDATE inventory.products AS p
    SET rating_sum = p.rating_sum + m.rating,
        review_count = p.review_count + m.count
    FROM (
      SELECT product_id, sum(rating)::bigint AS rating, sum(count)::int AS count
      FROM unnest(${changes.map((c) => c.product_id)}::uuid[], ${changes.map((c) => c.rating)}::int[], ${changes.map((c) => c.count)}::int[]) AS c(product_id, rating, count)
      GROUP BY product_id
    ) AS m
    WHERE p.id = m.product_id`.execute(tx);
}

/** Active reservations for each order's lines, in one statement. */
export async function insertReservations(tx: Transaction<any>, orders: ReadonlyArray<{ order_id: string; lines: readonly Line[] }>, newId: () => string): Promise<void> {
  const rows = orders.flatMap((order) =>
    order.lines.map((line) => ({ id: newId(), order_id: order.order_id, product_id: line.product_id, quantity: line.quantity, status: 'active' as const })),
  );
  if (rows.length === 0) return;
  await asDb(tx).insertInto('inventory.reservations').values(rows).execute();
}

/** Moves the order's active reservations to `status`, returning what they held. */
export async function closeReservations(tx: Transaction<any>, orderId: string, status: 'released' | 'committed'): Promise<Line[]> {
  return asDb(tx)
    .updateTable('inventory.reservations')
    .set({ status, updated_at: sql`now()` })
    .where('order_id', '=', orderId)
    .where('status', '=', 'active')
    .returning(['product_id', 'quantity'])
    .execute();
}

/**
 * Orders released before they were reserved (their OrderCancelled overtook a retried
 * OrderCreated): `closedAmong` gives them, lower-cased, so a late reservation does not happen.
 */
export const { markClosed: markOrderClosed, closedAmong } = closedEntities({ table: 'inventory.closed_orders', id: 'order_id' });

export async function listReservations(db: Kysely<any>, orderId: string): Promise<Reservation[]> {
  const rows = await asDb(db)
    .selectFrom('inventory.reservations')
    .selectAll()
    .where('order_id', '=', orderId)
    .orderBy('created_at')
    .orderBy('product_id')
    .execute();
  return rows.map(toReservation);
}
