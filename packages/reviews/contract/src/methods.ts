import { Type } from 'typebox';
import { EDGE, defineContract, Uuid, type AccessTable, type MethodTable } from '@shop/contract-kit';
import type { ReviewsApi } from './api.ts';
import { CreateReviewCommand } from './dto.ts';

/** What each ReviewsApi method does to state: what may be retried and shadowed. */
export const ReviewsMethods = {
  createReview: 'write', // idempotent only when a key is given, so not declared so
  getReview: 'read',
  listReviews: 'read',
} as const satisfies MethodTable<ReviewsApi>;

/** The edge keys a review by author and key (`<author>:<key>`), so it is longer than a client's key. */
const CreateReviewOptions = Type.Object({ idempotency_key: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })) }, { additionalProperties: false });

/** Who may call each ReviewsApi method from another process (the edge serves its routes), and its argument schemas. */
export const ReviewsAccess = {
  createReview: { callers: [EDGE], args: [CreateReviewCommand, Type.Optional(CreateReviewOptions)] },
  getReview: { callers: [EDGE], args: [Uuid] },
  listReviews: { callers: [EDGE], args: [Type.Integer({ minimum: 0 })] },
} as const satisfies AccessTable<ReviewsApi>;

/** The reviews module's contract as the kernel reads it: its name, method kinds, access and personal fields. */
export const ReviewsContract = defineContract<ReviewsApi>({
  name: 'reviews',
  description: 'Reviews (module reviews).',
  methods: ReviewsMethods,
  access: ReviewsAccess,
});
