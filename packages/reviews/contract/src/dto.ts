import { Type, type Static } from 'typebox';
import { FreeText, Uuid } from '@shop/contract-kit';

export const Review = Type.Object(
  {
    id: Uuid,
    title: Type.String(),
    /** Who created it (the token's subject). */
    created_by: Uuid,
    created_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'Review' },
);
export type Review = Static<typeof Review>;

/** The body of `POST /api/reviews`. */
export const CreateReviewInput = Type.Object({ title: FreeText({ maxLength: 200 }) }, { additionalProperties: false });
export type CreateReviewInput = Static<typeof CreateReviewInput>;

/** `createReview`'s command: the checked body, with its author settled by the route. */
export const CreateReviewCommand = Type.Object({ ...CreateReviewInput.properties, created_by: Uuid }, { additionalProperties: false });
export type CreateReviewCommand = Static<typeof CreateReviewCommand>;
