/**
 * The notifications module's public contract: what other modules and other teams may rely on.
 * Everything else in `@shop/notifications` is private and may change without notice.
 *
 * On `OrderConfirmed`, `OrderCancelled` and `OrderShipped`, exactly one notification per
 * channel the customer has set (email, Web Push) is recorded and sent; with none set, one
 * `skipped` notification is recorded.
 */
export * from './dto.ts';
export * from './events.ts';
export * from './errors.ts';
export type { NotificationsApi } from './api.ts';
export * from './methods.ts';
