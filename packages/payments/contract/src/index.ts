/**
 * The payments module's public contract: what other modules and other teams may rely on.
 * Everything else in `@shop/payments` is private and may change without notice.
 *
 * A payment is written `pending` before the provider is called (with an idempotency key the
 * provider also receives) and settled after: `captured`, `failed` (kept), later `refunded`.
 */
export * from './dto.ts';
export * from './events.ts';
export * from './errors.ts';
export type { PaymentsApi, ProcessPaymentCommand, ProcessPaymentResult } from './api.ts';
export * from './methods.ts';
