import type { PageResult } from '@shop/contract-kit';
import type { CreateReviewCommand, Review } from './dto.ts';

export interface CreateReviewResult {
  review: Review;
  /** false when an earlier request with the same idempotency key created it. */
  created: boolean;
}

/**
 * Everything another module may ask of reviews. Implemented in process by the module and over
 * HTTP by the client the kernel derives from `ReviewsMethods`: both throw the same
 * `ModuleError` codes (see `ReviewsErrors`).
 */
export interface ReviewsApi {
  /**
   * Creates a review. With an idempotency key, a retry with the same payload returns the first
   * one (`created: false`); with another payload it throws `idempotency_key_reused`.
   */
  createReview(command: CreateReviewCommand, options?: { idempotency_key?: string }): Promise<CreateReviewResult>;
  /** Throws `review_not_found`. */
  getReview(id: string): Promise<Review>;
  /** Newest first, 20 a page. */
  listReviews(page: number): Promise<PageResult<Review>>;
}
