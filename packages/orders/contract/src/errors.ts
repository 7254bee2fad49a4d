import { IdempotencyKeyReused, type ErrorSpec } from '@shop/contract-kit';

/** Stable error codes of the orders module, with the HTTP status each maps to. */
export const OrdersErrors = {
  orderNotFound: { code: 'order_not_found', status: 404, title: 'Order not found' },
  invalidStateTransition: {
    code: 'invalid_state_transition',
    status: 409,
    title: 'The order is not in a state that allows this',
  },
  idempotencyKeyReused: IdempotencyKeyReused,
  productNotFound: { code: 'product_not_found', status: 422, title: 'An ordered product does not exist' },
} as const satisfies Record<string, ErrorSpec>;
