import { ModuleError } from '@shop/contract-kit';
import type { Order } from '@shop/orders-contract';
import { PaymentsErrors, type Payment, type ProcessPaymentCommand } from '@shop/payments-contract';
import { fingerprint } from '@shop/platform';

/** Pure payment rules, free of I/O. */

/** The shop sells in one currency; the contract's amounts are its cents. */
export const CURRENCY = 'usd';

/** The provider's idempotency key for a payment's charge: stored before the provider is called. */
export const chargeKeyOf = (paymentId: string) => `payment:${paymentId}`;

/** The provider's idempotency key for a payment's refund: one refund per payment, ever. */
export const refundKeyOf = (paymentId: string) => `refund:${paymentId}`;

/** "The same payload" for an idempotency key: the order and the payment method. */
export function requestHashOf(command: Pick<ProcessPaymentCommand, 'order_id' | 'payment_method'>): string {
  return fingerprint({ order_id: command.order_id.toLowerCase(), payment_method: command.payment_method });
}

/** Only a pending order can be paid (a confirmed one already is; a cancelled one never will be). */
export function assertPayable(order: Pick<Order, 'id' | 'status'>): void {
  if (order.status !== 'pending') throw notPayable(`order ${order.id} is ${order.status}; only a pending order can be paid`, { current_status: order.status });
}

export function notPayable(detail: string, extensions: Record<string, unknown> = {}): ModuleError {
  return new ModuleError(PaymentsErrors.orderNotPayable, detail, extensions);
}

/** A settled payment as the caller sees it: a decline is an error that still names the kept payment. */
export function outcomeOf(payment: Payment, created: boolean): { payment: Payment; created: boolean } {
  if (payment.status === 'failed') {
    throw new ModuleError(PaymentsErrors.paymentDeclined, `the payment was declined: ${payment.failure_reason ?? 'unknown reason'}`, {
      payment_id: payment.id,
      failure_reason: payment.failure_reason,
    });
  }
  return { payment, created };
}

export function providerUnavailable(paymentId: string): ModuleError {
  return new ModuleError(
    PaymentsErrors.providerUnavailable,
    'the payment provider did not answer; the payment is pending and will be settled, or retry with the same idempotency key',
    { payment_id: paymentId },
  );
}
