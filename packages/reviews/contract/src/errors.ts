import { IdempotencyKeyReused, type ErrorSpec } from '@shop/contract-kit';

/** Stable error codes of the reviews module, with the HTTP status each maps to. */
export const ReviewsErrors = {
  reviewNotFound: { code: 'review_not_found', status: 404, title: 'Review not found' },
  /** The same code and meaning as inventory's: the product the review is about does not exist. */
  productNotFound: { code: 'product_not_found', status: 404, title: 'Product not found' },
  notAVerifiedPurchase: { code: 'not_a_verified_purchase', status: 403, title: 'Only a customer who received the product may review it' },
  reviewExists: { code: 'review_exists', status: 409, title: 'This customer has already reviewed this product' },
  idempotencyKeyReused: IdempotencyKeyReused,
} as const satisfies Record<string, ErrorSpec>;
