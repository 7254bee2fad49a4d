import { createHash } from 'node:crypto';
import { fingerprint } from '@shop/platform';
import type { ChargeRequest, ChargeResult, PaymentProvider, RefundRequest, RefundResult } from './provider.ts';
import { MIN_CHARGE_CENTS, declineReasonOf, testCardOutcome } from './test-cards.ts';

/**
 * A deterministic provider for development and tests: it takes no real money and answers as
 * Stripe's test mode does for its test payment methods. Refs are derived from the idempotency
 * key, so asking again with the same key gives the same answer, even after a restart.
 * It also keeps a ledger of what it did in this process, for tests to count.
 */
export class TestPaymentProvider implements PaymentProvider {
  readonly #charges = new Map<string, Entry<ChargeRequest, ChargeResult>>();
  readonly #refunds = new Map<string, Entry<RefundRequest, RefundResult>>();

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    return remember(this.#charges, request.idempotency_key, request, () => {
      if (request.amount_cents < MIN_CHARGE_CENTS) return { status: 'declined', reason: 'amount_too_small', ref: null };
      const outcome = testCardOutcome(request.payment_method);
      if (!outcome) return { status: 'declined', reason: 'invalid_payment_method', ref: null };
      const ref = refOf('pi_test', request.idempotency_key);
      return outcome.captured ? { status: 'captured', ref } : { status: 'declined', reason: declineReasonOf(outcome), ref };
    });
  }

  async refund(request: RefundRequest): Promise<RefundResult> {
    return remember(this.#refunds, request.idempotency_key, request, () => ({ ref: refOf('re_test', request.idempotency_key) }));
  }

  /** Captured charges made in this process (for one idempotency key, or all). */
  chargesFor(idempotencyKey?: string): number {
    return [...this.#charges].filter(([key, entry]) => entry.result.status === 'captured' && (idempotencyKey === undefined || key === idempotencyKey)).length;
  }

  /** Captured charges made in this process for one order. */
  chargesForOrder(orderId: string): number {
    return [...this.#charges.values()].filter((entry) => entry.result.status === 'captured' && entry.request.order_id === orderId).length;
  }

  /** Refunds made in this process (for one idempotency key, or all). */
  refundsFor(idempotencyKey?: string): number {
    return [...this.#refunds.keys()].filter((key) => idempotencyKey === undefined || key === idempotencyKey).length;
  }
}

interface Entry<Q, R> {
  readonly request: Q;
  readonly print: string;
  readonly result: R;
}

/** Like a real provider, one key is one operation: the same key with other parameters is a bug. */
function remember<Q extends object, R>(ledger: Map<string, Entry<Q, R>>, key: string, request: Q, perform: () => R): R {
  const print = fingerprint(request);
  const earlier = ledger.get(key);
  if (earlier) {
    if (earlier.print !== print) throw new Error(`idempotency key ${key} was already used with different parameters`);
    return earlier.result;
  }
  const result = perform();
  ledger.set(key, { request, print, result });
  return result;
}

function refOf(prefix: string, idempotencyKey: string): string {
  return `${prefix}_${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 24)}`;
}
