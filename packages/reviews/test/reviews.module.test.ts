import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModuleError } from '@shop/contract-kit';
import { InventoryErrors, type InventoryApi, type Product } from '@shop/inventory-contract';
import { OrderDelivered, OrderDeliveredV1 } from '@shop/orders-contract';
import { ReviewPosted, ReviewRemoved, ReviewsErrors, type ReviewsApi } from '@shop/reviews-contract';
import { eventually, expectModuleError, startModuleTestKit, type ModuleTestKit } from '@shop/platform/testing';
import { createReviewsModule, reviewsMigrations } from '../src/index.ts';

/** Inventory as reviews sees it: whether a product exists. */
function catalog(known: Set<string>): InventoryApi {
  const getProduct = async (id: string) => {
    if (!known.has(id)) throw new ModuleError(InventoryErrors.productNotFound, `no product with id ${id}`);
    return { id } as Product;
  };
  return new Proxy({ getProduct } as unknown as InventoryApi, {
    get: (target, method: string) => (target as unknown as Record<string, unknown>)[method] ?? (() => Promise.reject(new Error(`reviews does not call inventory.${method}`))),
  });
}

/** The reviews module alone, on a real PostgreSQL: orders' deliveries handed to it, what it publishes awaited. */
describe('reviews, as a module', () => {
  let kit: ModuleTestKit;
  let reviews: ReviewsApi;
  const products = new Set<string>();
  const product = () => {
    const id = randomUUID();
    products.add(id);
    return id;
  };

  beforeAll(async () => {
    kit = await startModuleTestKit([reviewsMigrations]);
    reviews = (await kit.run(createReviewsModule({ ...kit.deps('reviews'), inventory: catalog(products) }))).api;
  });
  afterAll(() => kit.stop());

  /** A delivered order of `customer` holding `productIds`, as orders publishes it (version 2). */
  const delivered = async (customer: string, productIds: string[]) => {
    const order_id = randomUUID();
    await kit.scenario
      .publish(OrderDelivered, { order_id, customer_id: customer, items: productIds.map((product_id) => ({ product_id, quantity: 1 })) }, 'orders')
      .andWaitForStateChange(() => kit.sql('SELECT 1 FROM reviews.purchases WHERE order_id = $1', [order_id]), (rows) => rows.length === productIds.length);
  };

  it('lets a customer review what a delivered order held, once, and publishes ReviewPosted', async () => {
    const [customer, mug] = [randomUUID(), product()];
    await delivered(customer, [mug]);
    const { result, payload } = await kit.scenario
      .stimulate(() => reviews.postReview({ product_id: mug, customer_id: customer, rating: 4, body: '  Holds tea. ' }))
      .andWaitForEvent(ReviewPosted, (posted) => posted.customer_id === customer);
    expect(result).toMatchObject({ created: true, review: { product_id: mug, customer_id: customer, rating: 4, body: 'Holds tea.' } });
    expect(payload).toEqual({ review_id: result.review.id, product_id: mug, customer_id: customer, rating: 4 });
    expect((await reviews.listReviewsForProduct(mug, 0)).items).toEqual([result.review]);

    await expectModuleError(reviews.postReview({ product_id: mug, customer_id: customer, rating: 5, body: 'Again' }), ReviewsErrors.reviewExists, { detail: /already reviewed/ });
  });

  it('refuses a customer without a delivered order holding the product: not_a_verified_purchase', async () => {
    const [customer, mug, other] = [randomUUID(), product(), product()];
    await delivered(customer, [other]);
    await expectModuleError(reviews.postReview({ product_id: mug, customer_id: customer, rating: 5, body: 'Never had it' }), ReviewsErrors.notAVerifiedPurchase, { detail: /no delivered order/ });
    // Someone else's delivery is not this customer's.
    await expectModuleError(reviews.postReview({ product_id: other, customer_id: randomUUID(), rating: 5, body: 'Not mine' }), ReviewsErrors.notAVerifiedPurchase, { detail: /no delivered order/ });
  });

  it('an unknown product is product_not_found, before anything else', async () => {
    await expectModuleError(reviews.postReview({ product_id: randomUUID(), customer_id: randomUUID(), rating: 3, body: 'What?' }), InventoryErrors.productNotFound);
    await expectModuleError(reviews.listReviewsForProduct(randomUUID(), 0), InventoryErrors.productNotFound);
  });

  it('learns nothing from an OrderDelivered of version 1 (no items), and never misreads it', async () => {
    const [customer, mug] = [randomUUID(), product()];
    const order_id = randomUUID();
    const v1 = await kit.scenario.publish(OrderDeliveredV1, { order_id, customer_id: customer }, 'orders').andWaitForStateChange(
      () => kit.sql('SELECT 1 FROM reviews.inbox WHERE event_id = $1', [kit.bus.published.at(-1)!.id]),
      (rows) => rows.length === 1,
    );
    expect(v1.result.version).toBe(1);
    expect(await kit.sql('SELECT * FROM reviews.purchases WHERE customer_id = $1', [customer])).toEqual([]);
    await expectModuleError(reviews.postReview({ product_id: mug, customer_id: customer, rating: 5, body: 'Old event' }), ReviewsErrors.notAVerifiedPurchase);
  });

  it('a retry with the same Idempotency-Key answers the first review; racing posts make one review', async () => {
    const [customer, mug] = [randomUUID(), product()];
    await delivered(customer, [mug]);
    const key = `${customer}:${randomUUID()}`;
    const command = { product_id: mug, customer_id: customer, rating: 5, body: 'Race' };
    const results = await Promise.all(Array.from({ length: 6 }, () => reviews.postReview(command, { idempotency_key: key })));
    expect(results.filter((result) => result.created)).toHaveLength(1);
    expect(new Set(results.map((result) => result.review.id)).size).toBe(1);
    await expectModuleError(reviews.postReview({ ...command, rating: 1 }, { idempotency_key: key }), ReviewsErrors.idempotencyKeyReused);
    // Without keys, racing posts of one customer and product: one review, the others review_exists.
    const [racer, cup] = [randomUUID(), product()];
    await delivered(racer, [cup]);
    const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => reviews.postReview({ product_id: cup, customer_id: racer, rating: 2, body: 'Race' })));
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    for (const outcome of outcomes) if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: 'review_exists' });
    await eventually(() => expect(kit.scenario.eventsOf(ReviewPosted, (posted) => posted.product_id === cup)).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 200)); // and no second one follows
    expect(kit.scenario.eventsOf(ReviewPosted, (posted) => posted.product_id === cup)).toHaveLength(1);
  });

  it('removes a review for its author or an admin, publishing ReviewRemoved once; anyone else gets review_not_found', async () => {
    const [customer, mug] = [randomUUID(), product()];
    await delivered(customer, [mug]);
    const { review } = await reviews.postReview({ product_id: mug, customer_id: customer, rating: 2, body: 'Chipped' });
    await expectModuleError(reviews.removeReview(review.id, { customer_id: randomUUID(), is_admin: false }), ReviewsErrors.reviewNotFound, { detail: /no review with id/ });
    const { payload } = await kit.scenario
      .stimulate(() => reviews.removeReview(review.id, { customer_id: customer, is_admin: false }))
      .andWaitForEvent(ReviewRemoved, (removed) => removed.review_id === review.id);
    expect(payload).toEqual({ review_id: review.id, product_id: mug, rating: 2 });
    await expectModuleError(reviews.removeReview(review.id, { customer_id: customer, is_admin: false }), ReviewsErrors.reviewNotFound);
    // Removed, the customer may review again; an admin removes anyone's.
    const again = await reviews.postReview({ product_id: mug, customer_id: customer, rating: 3, body: 'Replaced' });
    await reviews.removeReview(again.review.id, { customer_id: randomUUID(), is_admin: true });
    expect((await reviews.listReviewsForProduct(mug, 0)).items).toEqual([]);
  });
});
