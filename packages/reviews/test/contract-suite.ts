import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isModuleError } from '@shop/contract-kit';
import type { InventoryApi } from '@shop/inventory-contract';
import type { OrdersApi } from '@shop/orders-contract';
import { ReviewsErrors, type ReviewsApi } from '@shop/reviews-contract';
import { RFC3339, eventually, expectModuleError, type ContractTarget } from '@shop/platform/testing';

/**
 * The interfaces the reviews suite uses: reviews', and those that make a verified purchase
 * happen the way the system does (a product, an order paid, shipped and delivered).
 */
export interface ReviewsContractApis {
  readonly reviews: ReviewsApi;
  readonly inventory: InventoryApi;
  readonly orders: OrdersApi;
  readonly payments: { processPayment(command: { order_id: string; payment_method: string; idempotency_key: string }): Promise<unknown> };
}

/**
 * The contract of `ReviewsApi`, written once and run against every implementation of it: the
 * module in process, and its HTTP client talking to a process that hosts it. Every method, its
 * answers and its errors must be the same.
 */
export function reviewsContractSuite(name: string, target: () => ContractTarget<ReviewsContractApis>): void {
  describe(`ReviewsApi contract (${name})`, () => {
    const apis = () => target().apis;
    const reviews = () => apis().reviews;

    const newProduct = async () => (await apis().inventory.createProduct({ sku: `CT-REV-${randomUUID().slice(0, 13)}`, name: 'Reviewed mug', price_cents: 900, stock_quantity: 10 })).product.id;

    /** A customer who received `productId`: ordered, paid, shipped, delivered, and learned by reviews from OrderDelivered. */
    async function verifiedBuyer(productId: string): Promise<string> {
      const customer = randomUUID();
      const { order } = await apis().orders.createOrder({ customer_id: customer, items: [{ product_id: productId, quantity: 1 }], idempotency_key: randomUUID() });
      await eventually(async () => expect((await apis().inventory.listReservations(order.id)).map((r) => r.status)).toEqual(['active']));
      await apis().payments.processPayment({ order_id: order.id, payment_method: 'pm_card_visa', idempotency_key: randomUUID() });
      await eventually(async () => expect((await apis().orders.getOrder(order.id)).status).toBe('confirmed'));
      await apis().orders.shipOrder(order.id);
      await apis().orders.deliverOrder(order.id);
      return customer;
    }

    /** Posts as soon as reviews has learned of the delivery (it follows the event shortly). */
    const postWhenVerified = (command: Parameters<ReviewsApi['postReview']>[0], options?: { idempotency_key?: string }) =>
      eventually(async () => {
        try {
          return await reviews().postReview(command, options);
        } catch (error) {
          if (isModuleError(error) && error.code === ReviewsErrors.notAVerifiedPurchase.code) throw new Error('not yet verified', { cause: error });
          throw error;
        }
      });

    it('postReview by a verified buyer answers the review; listReviewsForProduct answers it, newest first', async () => {
      const product = await newProduct();
      const [first, second] = [await verifiedBuyer(product), await verifiedBuyer(product)];
      const a = await postWhenVerified({ product_id: product, customer_id: first, rating: 5, body: 'Lovely' });
      expect(a).toEqual({ created: true, review: { id: expect.any(String), product_id: product, customer_id: first, rating: 5, body: 'Lovely', created_at: expect.stringMatching(RFC3339) } });
      expect(Object.keys(a.review).sort()).toEqual(['body', 'created_at', 'customer_id', 'id', 'product_id', 'rating']);
      const b = await postWhenVerified({ product_id: product, customer_id: second, rating: 3, body: 'Fine' });
      expect(await reviews().listReviewsForProduct(product, 0)).toEqual({ items: [b.review, a.review], has_more: false });
    });

    it('a second review of the same product by the same customer is review_exists; a keyed retry answers the first', async () => {
      const product = await newProduct();
      const customer = await verifiedBuyer(product);
      const key = `${customer}:${randomUUID()}`;
      const first = await postWhenVerified({ product_id: product, customer_id: customer, rating: 4, body: 'Good' }, { idempotency_key: key });
      expect(await reviews().postReview({ product_id: product, customer_id: customer, rating: 4, body: 'Good' }, { idempotency_key: key })).toEqual({ ...first, created: false });
      await expectModuleError(reviews().postReview({ product_id: product, customer_id: customer, rating: 1, body: 'Changed my mind' }, { idempotency_key: key }), ReviewsErrors.idempotencyKeyReused, { detail: /review/ });
      await expectModuleError(reviews().postReview({ product_id: product, customer_id: customer, rating: 1, body: 'Changed my mind' }), ReviewsErrors.reviewExists, {
        detail: new RegExp(`customer ${customer} has already reviewed product ${product}`),
      });
    });

    it('postReview without a delivered order is not_a_verified_purchase; of an unknown product, product_not_found', async () => {
      const product = await newProduct();
      await expectModuleError(reviews().postReview({ product_id: product, customer_id: randomUUID(), rating: 5, body: 'Never bought it' }), ReviewsErrors.notAVerifiedPurchase, {
        detail: /has no delivered order holding product/,
      });
      const unknown = randomUUID();
      await expectModuleError(reviews().postReview({ product_id: unknown, customer_id: randomUUID(), rating: 5, body: 'Ghost' }), ReviewsErrors.productNotFound, { detail: new RegExp(unknown) });
      await expectModuleError(reviews().listReviewsForProduct(unknown, 0), ReviewsErrors.productNotFound, { detail: new RegExp(unknown) });
    });

    it("removeReview: another customer's review is review_not_found; its author and an admin may remove it", async () => {
      const product = await newProduct();
      const customer = await verifiedBuyer(product);
      const { review } = await postWhenVerified({ product_id: product, customer_id: customer, rating: 2, body: 'Meh' });
      await expectModuleError(reviews().removeReview(review.id, { customer_id: randomUUID(), is_admin: false }), ReviewsErrors.reviewNotFound, { detail: new RegExp(`no review with id ${review.id}`) });
      expect(await reviews().removeReview(review.id, { customer_id: customer, is_admin: false })).toBeUndefined();
      await expectModuleError(reviews().removeReview(review.id, { customer_id: customer, is_admin: false }), ReviewsErrors.reviewNotFound);
      const again = await reviews().postReview({ product_id: product, customer_id: customer, rating: 3, body: 'Second try' });
      await reviews().removeReview(again.review.id, { customer_id: randomUUID(), is_admin: true });
      expect((await reviews().listReviewsForProduct(product, 0)).items).toEqual([]);
    });
  });
}
