/**
 * The inventory module's public contract: what other modules and other teams may rely on.
 * Everything else in `@shop/inventory` is private and may change without notice.
 *
 * Stock model: `stock_quantity` is what is on hand; `reserved_quantity` is what active
 * reservations hold; available = stock − reserved. Reserving leaves stock as it is;
 * releasing lowers reserved; committing (on shipping) lowers both.
 */
export * from './dto.ts';
export * from './events.ts';
export * from './errors.ts';
export type { InventoryApi, CreateProductResult } from './api.ts';
export * from './methods.ts';
