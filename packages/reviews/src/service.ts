import { randomUUID } from 'node:crypto';
import { ModuleError, type PageResult } from '@shop/contract-kit';
import type { InventoryApi } from '@shop/inventory-contract';
import { ReviewPosted, ReviewRemoved, ReviewsErrors, type PostReviewCommand, type PostReviewResult, type Remover, type Review, type ReviewsApi } from '@shop/reviews-contract';
import { fingerprint, isUniqueViolation, type ModuleDatabase, type UnitOfWork } from '@shop/platform';
import { bodyOf } from './domain.ts';
import * as repo from './repository.ts';

/** The reviews module's interface, in process. */
export class ReviewsService implements ReviewsApi {
  readonly #db: ModuleDatabase;
  readonly #uow: UnitOfWork;
  readonly #inventory: InventoryApi;

  constructor(deps: { db: ModuleDatabase; uow: UnitOfWork; inventory: InventoryApi }) {
    this.#db = deps.db;
    this.#uow = deps.uow;
    this.#inventory = deps.inventory;
  }

  async postReview(command: PostReviewCommand, options: { idempotency_key?: string } = {}): Promise<PostReviewResult> {
    const customer_id = command.customer_id.toLowerCase();
    const product_id = command.product_id.toLowerCase();
    const body = bodyOf(command.body);
    const key = options.idempotency_key ?? null;
    const request = { customer_id, idempotency_key: key, request_hash: key ? fingerprint({ product_id, rating: command.rating, body }) : null };
    // A retry is answered before anything is asked again.
    const earlier = await repo.findByKey(this.#db.kysely, request);
    if (earlier) return { review: repo.toReview(earlier), created: false };

    // The product must exist: asked through inventory's interface (local or remote, it can't tell).
    await this.#inventory.getProduct(product_id);
    try {
      const { created, row } = await this.#uow.run(async (tx) => {
        if (!(await repo.hasPurchased(tx.db, customer_id, product_id))) {
          throw new ModuleError(ReviewsErrors.notAVerifiedPurchase, `customer ${customer_id} has no delivered order holding product ${product_id}`);
        }
        const result = await repo.createReview(tx.db, { id: randomUUID(), product_id, rating: command.rating, body, ...request });
        if (result.created) tx.publish(ReviewPosted, { review_id: result.row.id, product_id, customer_id, rating: command.rating });
        return result;
      });
      return { review: repo.toReview(row), created };
    } catch (error) {
      if (!isUniqueViolation(error, repo.ONE_REVIEW_PER_PRODUCT)) throw error;
      // A racing retry with the same key can lose on the one-per-product rule before the key's: a replay, not a second review.
      const raced = await repo.findByKey(this.#db.kysely, request);
      if (raced) return { review: repo.toReview(raced), created: false };
      throw new ModuleError(ReviewsErrors.reviewExists, `customer ${customer_id} has already reviewed product ${product_id}`);
    }
  }

  async listReviewsForProduct(productId: string, page: number): Promise<PageResult<Review>> {
    await this.#inventory.getProduct(productId);
    return repo.listForProduct(this.#db.kysely, productId.toLowerCase(), page);
  }

  async removeReview(reviewId: string, remover: Remover): Promise<void> {
    await this.#uow.run(async (tx) => {
      const removed = await repo.deleteReview(tx.db, reviewId, { customer_id: remover.customer_id.toLowerCase(), is_admin: remover.is_admin });
      // Another customer's review answers as if it did not exist.
      if (!removed) throw new ModuleError(ReviewsErrors.reviewNotFound, `no review with id ${reviewId}`);
      tx.publish(ReviewRemoved, { review_id: removed.id, product_id: removed.product_id, rating: removed.rating });
    });
  }
}
