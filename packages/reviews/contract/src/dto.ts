import { Type, type Static } from 'typebox';
import { FreeText, Uuid } from '@shop/contract-kit';

const Rating = Type.Integer({ minimum: 1, maximum: 5 });

export const Review = Type.Object(
  {
    id: Uuid,
    product_id: Uuid,
    /** The author: the customer who bought and received the product. */
    customer_id: Uuid,
    rating: Rating,
    body: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'Review' },
);
export type Review = Static<typeof Review>;

/** The body of `POST /api/products/:id/reviews`. */
export const PostReviewInput = Type.Object({ rating: Rating, body: FreeText({ maxLength: 2_000 }) }, { additionalProperties: false });
export type PostReviewInput = Static<typeof PostReviewInput>;

/** `postReview`'s command: the checked body, with the product and its author settled by the route. */
export const PostReviewCommand = Type.Object({ ...PostReviewInput.properties, product_id: Uuid, customer_id: Uuid }, { additionalProperties: false });
export type PostReviewCommand = Static<typeof PostReviewCommand>;

/** Who asks to remove a review: its author may, an admin may remove any. */
export const Remover = Type.Object({ customer_id: Uuid, is_admin: Type.Boolean() }, { additionalProperties: false });
export type Remover = Static<typeof Remover>;
