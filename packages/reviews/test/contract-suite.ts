import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ReviewsErrors, type ReviewsApi } from '@shop/reviews-contract';
import { RFC3339, expectModuleError, type ContractTarget } from '@shop/platform/testing';

/** The interfaces the reviews suite uses. */
export interface ReviewsContractApis {
  readonly reviews: ReviewsApi;
}

/**
 * The contract of `ReviewsApi`, written once and run against every implementation of it: the
 * module in process, and its HTTP client talking to a process that hosts it. Every method, its
 * answers and its errors must be the same.
 */
export function reviewsContractSuite(name: string, target: () => ContractTarget<ReviewsContractApis>): void {
  describe(`ReviewsApi contract (${name})`, () => {
    const reviews = () => target().apis.reviews;

    it('createReview answers the new review, and getReview answers the same', async () => {
      const author = randomUUID();
      const result = await reviews().createReview({ title: 'Contract', created_by: author });
      expect(result).toEqual({ created: true, review: { id: expect.any(String), title: 'Contract', created_by: author, created_at: expect.stringMatching(RFC3339) } });
      expect(await reviews().getReview(result.review.id)).toEqual(result.review);
    });

    it('createReview with a key: the same payload answers the first, another payload is idempotency_key_reused', async () => {
      const author = randomUUID();
      const key = `contract-${randomUUID()}`;
      const first = await reviews().createReview({ title: 'Keyed', created_by: author }, { idempotency_key: key });
      expect(await reviews().createReview({ title: 'Keyed', created_by: author }, { idempotency_key: key })).toEqual({ ...first, created: false });
      await expectModuleError(reviews().createReview({ title: 'Other', created_by: author }, { idempotency_key: key }), ReviewsErrors.idempotencyKeyReused, { detail: /review/ });
    });

    it('getReview of an unknown id is review_not_found', async () => {
      await expectModuleError(reviews().getReview(randomUUID()), ReviewsErrors.reviewNotFound, { detail: /no review with id/ });
    });

    it('listReviews answers newest first, a page at a time', async () => {
      const a = await reviews().createReview({ title: 'Older', created_by: randomUUID() });
      const b = await reviews().createReview({ title: 'Newer', created_by: randomUUID() });
      const page = await reviews().listReviews(0);
      const ids = page.items.map((item) => item.id);
      expect(ids.indexOf(b.review.id)).toBeLessThan(ids.indexOf(a.review.id));
      expect(typeof page.has_more).toBe('boolean');
    });
  });
}
