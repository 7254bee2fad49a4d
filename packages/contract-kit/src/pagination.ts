import { Type } from 'typebox';

/** Items per page everywhere (the API contract's convention: 0-based pages, newest first). */
export const PAGE_SIZE = 20;

/** `?page=N`, 0-based. */
export const PageQuery = Type.Object(
  { page: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })) },
  { additionalProperties: false },
);

/** One page of a list: the items, and whether another page follows. */
export interface PageResult<T> {
  items: T[];
  has_more: boolean;
}
