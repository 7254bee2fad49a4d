import type { Logger } from 'pino';
import { PaymentCaptured, PaymentFailed, PaymentRefunded } from '@shop/payments-contract';
import type { CallOut, ModuleDatabase, Tx, UnitOfWork } from '@shop/platform';
import { CURRENCY, chargeKeyOf, refundKeyOf } from './domain.ts';
import type { ChargeResult, PaymentProvider } from './provider.ts';
import * as repo from './repository.ts';

/**
 * Moves money for payments already written down: charges a pending payment and settles it,
 * refunds a captured payment whose refund was requested. Every provider call carries the key
 * stored with the payment, so calling again (a retry, a racing request, the reconciler after a
 * crash) is always safe; in one process, concurrent calls for one payment share a single call.
 */
export class Settlement {
  readonly #db: ModuleDatabase;
  readonly #uow: UnitOfWork;
  readonly #provider: PaymentProvider;
  readonly #logger: Logger;
  readonly #callOut: CallOut;
  readonly #inFlight = new Map<string, Promise<repo.StoredPayment>>();
  readonly #background = new Set<Promise<unknown>>();

  constructor(deps: { db: ModuleDatabase; uow: UnitOfWork; provider: PaymentProvider; logger: Logger; callOut: CallOut }) {
    this.#db = deps.db;
    this.#uow = deps.uow;
    this.#provider = deps.provider;
    this.#logger = deps.logger;
    this.#callOut = deps.callOut;
  }

  /** Asks the provider to charge a pending payment and settles it; throws what the provider throws. */
  charge(payment: repo.StoredPayment): Promise<repo.StoredPayment> {
    return this.#once(`charge:${payment.id}`, async () => {
      const charge = {
        amount_cents: payment.amount_cents,
        currency: CURRENCY,
        payment_method: payment.payment_method,
        idempotency_key: chargeKeyOf(payment.id),
        order_id: payment.order_id,
      };
      const result = await this.#callOut('payment-provider', 'charge', () => this.#provider.charge(charge), (outcome) => outcome.status);
      return this.#settle(payment, result);
    });
  }

  /** Gives back a captured payment whose refund was requested, and records it; throws what the provider throws. */
  refund(payment: repo.StoredPayment): Promise<repo.StoredPayment> {
    return this.#once(`refund:${payment.id}`, async () => {
      if (payment.provider_ref === null) throw new Error(`captured payment ${payment.id} has no provider ref`);
      const providerRef = payment.provider_ref;
      const { ref } = await this.#callOut('payment-provider', 'refund', () =>
        this.#provider.refund({ payment_ref: providerRef, amount_cents: payment.amount_cents, idempotency_key: refundKeyOf(payment.id) }),
      );
      return this.#uow.run(async (tx) => {
        const refunded = await repo.completeRefund(tx.db, payment.id, ref);
        if (!refunded) return (await repo.findPayment(tx.db, payment.id))!;
        tx.publish(PaymentRefunded, { payment_id: refunded.id, order_id: refunded.order_id, amount_cents: refunded.amount_cents, refund_ref: ref });
        return refunded;
      });
    });
  }

  /**
   * In the cancellation's transaction: records the order as closed (a capture settling later
   * refunds itself) and requests the refund of what is captured now. Returns what to refund
   * once the transaction has committed.
   */
  async closeOrder(tx: Tx, orderId: string): Promise<repo.StoredPayment[]> {
    await tx.lock('order', [orderId]);
    await repo.markOrderClosed(tx.db, orderId);
    return repo.requestRefund(tx.db, { order_id: orderId });
  }

  /** Refunds after commit without making the caller wait; a failure is left to the reconciler. */
  refundInBackground(payment: repo.StoredPayment): void {
    const work = this.refund(payment).catch((error) => this.#logger.warn({ err: error, payment_id: payment.id }, 'refund not completed; the reconciler will retry it'));
    this.#background.add(work);
    void work.finally(() => this.#background.delete(work));
  }

  /** Resolves once the background refunds started so far have finished (for a clean stop). */
  async idle(): Promise<void> {
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
  }

  /** pending → captured|failed, with its event; a capture for an order closed meanwhile is refunded. */
  async #settle(payment: repo.StoredPayment, result: ChargeResult): Promise<repo.StoredPayment> {
    const { settled, refundNow } = await this.#uow.run(async (tx) => {
      await tx.lock('order', [payment.order_id]);
      const outcome =
        result.status === 'captured'
          ? { status: 'captured' as const, provider_ref: result.ref, failure_reason: null }
          : { status: 'failed' as const, provider_ref: result.ref, failure_reason: result.reason };
      const updated = await repo.settle(tx.db, payment.id, outcome);
      // Settled by someone else first (another instance, the reconciler): nothing to publish.
      if (!updated) return { settled: (await repo.findPayment(tx.db, payment.id))!, refundNow: false };
      const base = { payment_id: updated.id, order_id: updated.order_id, amount_cents: updated.amount_cents };
      if (result.status === 'declined') {
        tx.publish(PaymentFailed, { ...base, failure_reason: result.reason });
        return { settled: updated, refundNow: false };
      }
      tx.publish(PaymentCaptured, { ...base, provider_ref: result.ref });
      if (!(await repo.isOrderClosed(tx.db, updated.order_id))) return { settled: updated, refundNow: false };
      const [requested] = await repo.requestRefund(tx.db, { id: updated.id });
      return { settled: requested ?? updated, refundNow: requested !== undefined };
    });
    if (!refundNow) return settled;
    // The order was cancelled while the charge was in flight: give the money back now.
    try {
      return await this.refund(settled);
    } catch (error) {
      this.#logger.warn({ err: error, payment_id: settled.id }, 'refund not completed; the reconciler will retry it');
      return (await repo.findPayment(this.#db.kysely, settled.id))!;
    }
  }

  #once(key: string, work: () => Promise<repo.StoredPayment>): Promise<repo.StoredPayment> {
    const running = this.#inFlight.get(key);
    if (running) return running;
    const started = work().finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, started);
    return started;
  }
}
