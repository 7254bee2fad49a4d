import type { Generated, Kysely, Selectable } from 'kysely';
import type { PageResult } from '@shop/contract-kit';
import type { Review } from '@shop/reviews-contract';
import { fetchPage, findIdempotent, idempotentCreate, typedDb, type IdempotentCreated, type IdempotentTable } from '@shop/platform';

/** SQL on the reviews schema only. */
interface ReviewRow {
  id: string;
  title: string;
  created_by: string;
  idempotency_key: string | null;
  request_hash: string | null;
  created_at: Generated<Date>;
}

interface ReviewsTables {
  'reviews.reviews': ReviewRow;
}

const asDb = typedDb<ReviewsTables>;
type StoredReview = Selectable<ReviewRow>;
export type NewReview = Omit<StoredReview, 'created_at'>;

const BY_KEY: IdempotentTable<ReviewsTables, 'reviews.reviews', 'idempotency_key'> = { table: 'reviews.reviews', key: ['idempotency_key'], what: 'review' };

export function toReview(row: StoredReview): Review {
  return { id: row.id, title: row.title, created_by: row.created_by, created_at: row.created_at.toISOString() };
}

/** Creates a review once per idempotency key (always, without one). */
export async function createReview(db: Kysely<any>, review: NewReview): Promise<IdempotentCreated<StoredReview>> {
  return idempotentCreate(db, BY_KEY, review);
}

/** The review stored under this key, if any; refused (422) when stored for another request. */
export async function findByKey(db: Kysely<any>, request: Pick<NewReview, 'idempotency_key' | 'request_hash'>): Promise<StoredReview | undefined> {
  return findIdempotent(db, BY_KEY, request);
}

export async function findReview(db: Kysely<any>, id: string): Promise<StoredReview | undefined> {
  return asDb(db).selectFrom('reviews.reviews').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listReviews(db: Kysely<any>, page: number): Promise<PageResult<Review>> {
  const { rows, has_more } = await fetchPage(asDb(db).selectFrom('reviews.reviews').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc'), page);
  return { items: rows.map(toReview), has_more };
}
