/**
 * The orders module's public contract: what other modules and other teams may rely on.
 * Everything else in `@shop/orders` is private and may change without notice.
 *
 * Status machine: pending → confirmed → shipped → delivered, and pending|confirmed → cancelled.
 */
export * from './dto.ts';
export * from './events.ts';
export * from './errors.ts';
export type { OrdersApi, CreateOrderCommand, CreateOrderResult } from './api.ts';
export * from './methods.ts';
