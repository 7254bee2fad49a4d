import type { Payment } from './dto.ts';

export interface ProcessPaymentCommand {
  order_id: string;
  payment_method: string;
  /** Required: a retry with the same key and payload returns the first payment. */
  idempotency_key: string;
}

export interface ProcessPaymentResult {
  payment: Payment;
  /** false when an earlier request with the same idempotency key made it. */
  created: boolean;
}

/**
 * Everything another module may ask of payments. Implemented in process by the module and
 * over HTTP by its client: both throw the same `ModuleError` codes (see `PaymentsErrors`).
 * Ownership is enforced at the HTTP edge, not here.
 */
export interface PaymentsApi {
  /**
   * Charges the order's total (read through the orders interface). Throws `order_not_found`,
   * `order_not_payable` (not pending, or already paid), `payment_declined` (the failed payment
   * is kept and returned by later retries of the same key), `payment_provider_unavailable`,
   * `idempotency_key_reused`. Money never moves twice for one key, even across a crash.
   */
  processPayment(command: ProcessPaymentCommand): Promise<ProcessPaymentResult>;
  /** Throws `payment_not_found`. */
  getPayment(id: string): Promise<Payment>;
  /** Every payment attempt for the order, newest first. */
  listPaymentsForOrder(orderId: string): Promise<Payment[]>;
}
