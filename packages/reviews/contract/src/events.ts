import { Type } from 'typebox';
import { defineEvent, Uuid } from '@shop/contract-kit';

const Rating = Type.Integer({ minimum: 1, maximum: 5 });

/** A verified purchaser reviewed a product. Inventory adds the rating to the product's summary. */
export const ReviewPosted = defineEvent('ReviewPosted', 1, Type.Object({ review_id: Uuid, product_id: Uuid, customer_id: Uuid, rating: Rating }));

/** A review was removed (by its author or an admin). Inventory takes its rating out of the summary. */
export const ReviewRemoved = defineEvent('ReviewRemoved', 1, Type.Object({ review_id: Uuid, product_id: Uuid, rating: Rating }));

export const ReviewsEvents = [ReviewPosted, ReviewRemoved] as const;
