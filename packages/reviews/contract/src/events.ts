import { Type } from 'typebox';
import { defineEvent, Uuid } from '@shop/contract-kit';

/** A review was created. A new version of an event only adds fields, so its older consumers keep working. */
export const ReviewCreated = defineEvent('ReviewCreated', 1, Type.Object({ review_id: Uuid, created_by: Uuid, title: Type.String() }));

export const ReviewsEvents = [ReviewCreated] as const;
