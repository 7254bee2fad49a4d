/**
 * The reviews module's public contract: what other modules and other teams may rely on.
 * Everything else in `@shop/reviews` is private and may change without notice.
 */
export * from './dto.ts';
export * from './events.ts';
export * from './errors.ts';
export type { ReviewsApi, PostReviewResult } from './api.ts';
export * from './methods.ts';
