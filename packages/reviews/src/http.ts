import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { PageQuery } from '@shop/contract-kit';
import { CreateReviewInput, ReviewsErrors, Review, type ReviewsApi } from '@shop/reviews-contract';
import { idempotencyKeyOf, principalOf, sendPage } from '@shop/platform';

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const tags = ['reviews'];
const security = [{ bearerAuth: [] }];

/** The reviews routes (mounted under /api). */
export function reviewsRoutes(api: ReviewsApi): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/reviews',
      {
        schema: {
          tags,
          security,
          operationId: 'createReview',
          summary: 'Create a review. Accepts an Idempotency-Key header.',
          body: CreateReviewInput,
          response: { 200: Review, 201: Review },
          idempotencyKey: 'header',
          errors: [ReviewsErrors.idempotencyKeyReused],
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const key = idempotencyKeyOf(request, undefined);
        const result = await api.createReview({ ...request.body, created_by: principal.sub }, key ? { idempotency_key: `${principal.sub}:${key}` } : {});
        return reply.code(result.created ? 201 : 200).send(result.review);
      },
    );

    app.get(
      '/reviews',
      { schema: { tags, security, operationId: 'listReviews', summary: 'Reviews, newest first', querystring: PageQuery, response: { 200: Type.Array(Review) } } },
      async (request, reply) => {
        const page = request.query.page ?? 0;
        return sendPage(request, reply, page, await api.listReviews(page));
      },
    );

    app.get(
      '/reviews/:id',
      { schema: { tags, security, operationId: 'getReview', summary: 'One review', params: IdParams, response: { 200: Review }, errors: [ReviewsErrors.reviewNotFound] } },
      async (request) => api.getReview(request.params.id),
    );
  };
}
