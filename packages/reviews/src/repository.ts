import type { Generated, Kysely, Selectable } from 'kysely';
import type { PageResult } from '@shop/contract-kit';
import type { Review } from '@shop/reviews-contract';
import { fetchPage, findIdempotent, idempotentCreate, typedDb, type IdempotentCreated, type IdempotentTable } from '@shop/platform';

/** SQL on the reviews schema only. */
interface ReviewRow {
  id: string;
  product_id: string;
  customer_id: string;
  rating: number;
  body: string;
  idempotency_key: string | null;
  request_hash: string | null;
  created_at: Generated<Date>;
}

interface PurchaseRow {
  customer_id: string;
  product_id: string;
  order_id: string;
  delivered_at: Date;
}

interface ReviewsTables {
  'reviews.reviews': ReviewRow;
  'reviews.purchases': PurchaseRow;
}

const asDb = typedDb<ReviewsTables>;
type StoredReview = Selectable<ReviewRow>;
export type NewReview = Omit<StoredReview, 'created_at'>;

const BY_KEY: IdempotentTable<ReviewsTables, 'reviews.reviews', 'customer_id' | 'idempotency_key'> = {
  table: 'reviews.reviews',
  key: ['customer_id', 'idempotency_key'],
  what: 'review',
};

/** The unique rule that makes a second review of the same product by the same customer fail (23505). */
export const ONE_REVIEW_PER_PRODUCT = 'one_review_per_customer_and_product';

export function toReview(row: StoredReview): Review {
  return { id: row.id, product_id: row.product_id, customer_id: row.customer_id, rating: row.rating, body: row.body, created_at: row.created_at.toISOString() };
}

/** Posts a review once per customer and key (always, without one); the one-per-product rule still throws (23505). */
export async function createReview(db: Kysely<any>, review: NewReview): Promise<IdempotentCreated<StoredReview>> {
  return idempotentCreate(db, BY_KEY, review);
}

/** The review stored under this customer's key, if any; refused (422) when stored for another request. */
export async function findByKey(db: Kysely<any>, request: Pick<NewReview, 'customer_id' | 'idempotency_key' | 'request_hash'>): Promise<StoredReview | undefined> {
  return request.idempotency_key === null ? undefined : findIdempotent(db, BY_KEY, request);
}

export async function listForProduct(db: Kysely<any>, productId: string, page: number): Promise<PageResult<Review>> {
  const query = asDb(db).selectFrom('reviews.reviews').selectAll().where('product_id', '=', productId).orderBy('created_at', 'desc').orderBy('id', 'desc');
  const { rows, has_more } = await fetchPage(query, page);
  return { items: rows.map(toReview), has_more };
}

/** Deletes the review if `customerId` wrote it (or anyone's, for an admin); the deleted row, or undefined. */
export async function deleteReview(db: Kysely<any>, id: string, remover: { customer_id: string; is_admin: boolean }): Promise<StoredReview | undefined> {
  let query = asDb(db).deleteFrom('reviews.reviews').where('id', '=', id);
  if (!remover.is_admin) query = query.where('customer_id', '=', remover.customer_id);
  return query.returningAll().executeTakeFirst();
}

export async function hasPurchased(db: Kysely<any>, customerId: string, productId: string): Promise<boolean> {
  const row = await asDb(db).selectFrom('reviews.purchases').select('order_id').where('customer_id', '=', customerId).where('product_id', '=', productId).executeTakeFirst();
  return row !== undefined;
}

/** Records what a delivered order held; a product bought before keeps its first order. */
export async function recordPurchases(db: Kysely<any>, purchase: { customer_id: string; order_id: string; delivered_at: Date; product_ids: readonly string[] }): Promise<void> {
  if (purchase.product_ids.length === 0) return;
  await asDb(db)
    .insertInto('reviews.purchases')
    .values(purchase.product_ids.map((product_id) => ({ customer_id: purchase.customer_id, product_id, order_id: purchase.order_id, delivered_at: purchase.delivered_at })))
    .onConflict((conflict) => conflict.columns(['customer_id', 'product_id']).doNothing())
    .execute();
}
