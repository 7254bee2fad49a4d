import { IdempotencyKeyReused, type ErrorSpec } from '@shop/contract-kit';

/** Stable error codes of the reviews module, with the HTTP status each maps to. */
export const ReviewsErrors = {
  reviewNotFound: { code: 'review_not_found', status: 404, title: 'Review not found' },
  idempotencyKeyReused: IdempotencyKeyReused,
} as const satisfies Record<string, ErrorSpec>;
