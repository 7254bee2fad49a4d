import type { PageResult } from '@shop/contract-kit';
import type { PostReviewCommand, Remover, Review } from './dto.ts';

export interface PostReviewResult {
  review: Review;
  /** false when an earlier request with the same idempotency key posted it. */
  created: boolean;
}

/**
 * Everything another module may ask of reviews. Implemented in process by the module and over
 * HTTP by the client the kernel derives from `ReviewsMethods`: both throw the same
 * `ModuleError` codes (see `ReviewsErrors`).
 */
export interface ReviewsApi {
  /**
   * Posts a customer's review of a product. Throws `product_not_found` for an unknown product,
   * `not_a_verified_purchase` unless a delivered order of this customer held the product,
   * `review_exists` when the customer has reviewed it already. With an idempotency key, a retry
   * with the same payload returns the first review (`created: false`); with another payload it
   * throws `idempotency_key_reused`.
   */
  postReview(command: PostReviewCommand, options?: { idempotency_key?: string }): Promise<PostReviewResult>;
  /** A product's reviews, newest first, 20 a page. Throws `product_not_found` for an unknown product. */
  listReviewsForProduct(productId: string, page: number): Promise<PageResult<Review>>;
  /** Throws `review_not_found`, also when the remover is neither its author nor an admin. */
  removeReview(reviewId: string, remover: Remover): Promise<void>;
}
