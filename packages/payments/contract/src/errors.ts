import { IdempotencyKeyReused, type ErrorSpec } from '@shop/contract-kit';

/** Stable error codes of the payments module, with the HTTP status each maps to. */
export const PaymentsErrors = {
  paymentNotFound: { code: 'payment_not_found', status: 404, title: 'Payment not found' },
  orderNotPayable: { code: 'order_not_payable', status: 409, title: 'The order is not pending, or is already paid' },
  /** The failed payment is kept; its id is in the problem's `payment_id` member. */
  paymentDeclined: { code: 'payment_declined', status: 402, title: 'The payment was declined' },
  idempotencyKeyReused: IdempotencyKeyReused,
  /**
   * The provider did not answer (timeout, outage). The payment stays `pending` and is settled
   * later; a retry with the same idempotency key asks the provider again, never charging twice.
   */
  providerUnavailable: { code: 'payment_provider_unavailable', status: 503, title: 'The payment provider is unavailable' },
} as const satisfies Record<string, ErrorSpec>;
