import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { PageQuery } from '@shop/contract-kit';
import { PostReviewInput, Review, ReviewsErrors, type ReviewsApi } from '@shop/reviews-contract';
import { idempotencyKeyOf, principalOf, sendPage } from '@shop/platform';

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const tags = ['reviews'];
const security = [{ bearerAuth: [] }];

/** The reviews routes (mounted under /api): a product's reviews, and a review's removal. */
export function reviewsRoutes(api: ReviewsApi): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/products/:id/reviews',
      {
        schema: {
          tags,
          security,
          operationId: 'postReview',
          summary: "Review a product the caller received (a delivered order held it); one review per customer and product. Accepts an Idempotency-Key header.",
          params: IdParams,
          body: PostReviewInput,
          response: { 200: Review, 201: Review },
          idempotencyKey: 'header',
          errors: [ReviewsErrors.productNotFound, ReviewsErrors.notAVerifiedPurchase, ReviewsErrors.reviewExists, ReviewsErrors.idempotencyKeyReused],
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const key = idempotencyKeyOf(request, undefined);
        const command = { ...request.body, product_id: request.params.id, customer_id: principal.sub };
        const result = await api.postReview(command, key ? { idempotency_key: `${principal.sub}:${key}` } : {});
        return reply.code(result.created ? 201 : 200).send(result.review);
      },
    );

    app.get(
      '/products/:id/reviews',
      {
        schema: {
          tags,
          security,
          operationId: 'listProductReviews',
          summary: "A product's reviews, newest first",
          params: IdParams,
          querystring: PageQuery,
          response: { 200: Type.Array(Review) },
          errors: [ReviewsErrors.productNotFound],
        },
      },
      async (request, reply) => {
        const page = request.query.page ?? 0;
        return sendPage(request, reply, page, await api.listReviewsForProduct(request.params.id, page));
      },
    );

    app.delete(
      '/reviews/:id',
      {
        schema: {
          tags,
          security,
          operationId: 'removeReview',
          summary: 'Remove a review (its author, or an admin); the product\'s rating summary follows',
          params: IdParams,
          response: { 204: Type.Null() },
          errors: [ReviewsErrors.reviewNotFound],
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        await api.removeReview(request.params.id, { customer_id: principal.sub, is_admin: principal.isAdmin });
        return reply.code(204).send(null);
      },
    );
  };
}
