import { Type } from 'typebox';
import { EDGE, defineContract, Uuid, type AccessTable, type MethodTable } from '@shop/contract-kit';
import type { ReviewsApi } from './api.ts';
import { PostReviewCommand, Remover } from './dto.ts';

/** What each ReviewsApi method does to state: what may be retried and shadowed. */
export const ReviewsMethods = {
  postReview: 'write', // idempotent only when a key is given, so not declared so
  listReviewsForProduct: 'read',
  removeReview: 'write',
} as const satisfies MethodTable<ReviewsApi>;

/** The edge keys a review by its author and key (`<customer>:<key>`), so it is longer than a client's key. */
const PostReviewOptions = Type.Object({ idempotency_key: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })) }, { additionalProperties: false });

/** Who may call each ReviewsApi method from another process (the edge serves its routes), and its argument schemas. */
export const ReviewsAccess = {
  postReview: { callers: [EDGE], args: [PostReviewCommand, Type.Optional(PostReviewOptions)] },
  listReviewsForProduct: { callers: [EDGE], args: [Uuid, Type.Integer({ minimum: 0 })] },
  removeReview: { callers: [EDGE], args: [Uuid, Remover] },
} as const satisfies AccessTable<ReviewsApi>;

/** The reviews module's contract as the kernel reads it: its name, method kinds, access and personal fields. */
export const ReviewsContract = defineContract<ReviewsApi>({
  name: 'reviews',
  description: "Verified-purchase reviews of products: one per customer and product; the product's rating summary follows (module reviews).",
  methods: ReviewsMethods,
  access: ReviewsAccess,
});
