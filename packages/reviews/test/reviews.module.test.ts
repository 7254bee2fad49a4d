import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReviewCreated, type ReviewsApi } from '@shop/reviews-contract';
import { startModuleTestKit, type ModuleTestKit } from '@shop/platform/testing';
import { createReviewsModule, reviewsMigrations } from '../src/index.ts';

/** The reviews module alone, on a real PostgreSQL: what it stores and the events it publishes. */
describe('reviews, as a module', () => {
  let kit: ModuleTestKit;
  let reviews: ReviewsApi;

  beforeAll(async () => {
    kit = await startModuleTestKit([reviewsMigrations]);
    reviews = (await kit.run(createReviewsModule(kit.deps('reviews')))).api;
  });
  afterAll(() => kit.stop());

  it('creates a review and publishes ReviewCreated with it, through the outbox', async () => {
    const author = randomUUID();
    const { payload, result } = await kit.scenario
      .stimulate(() => reviews.createReview({ title: 'First', created_by: author }))
      .andWaitForEvent(ReviewCreated, (created) => created.created_by === author);
    expect(result.created).toBe(true);
    expect(payload).toEqual({ review_id: result.review.id, created_by: author, title: 'First' });
    expect(await reviews.getReview(result.review.id)).toEqual(result.review);
  });

  it('creates once per idempotency key: a retry answers the first review and publishes nothing more', async () => {
    const author = randomUUID();
    const key = `key-${randomUUID()}`;
    const first = await reviews.createReview({ title: 'Once', created_by: author }, { idempotency_key: key });
    const again = await reviews.createReview({ title: 'Once', created_by: author }, { idempotency_key: key });
    expect(again).toEqual({ review: first.review, created: false });
    const rows = await kit.sql('SELECT count(*)::int AS n FROM reviews.reviews WHERE created_by = $1', [author]);
    expect(rows[0]!.n).toBe(1);
  });
});
