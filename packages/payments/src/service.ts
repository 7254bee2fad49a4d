import { randomUUID } from 'node:crypto';
import { ModuleError } from '@shop/contract-kit';
import type { OrdersApi } from '@shop/orders-contract';
import { PaymentsErrors, type Payment, type PaymentsApi, type ProcessPaymentCommand, type ProcessPaymentResult } from '@shop/payments-contract';
import { isUniqueViolation, type ModuleDatabase, type UnitOfWork } from '@shop/platform';
import { assertPayable, notPayable, outcomeOf, providerUnavailable, requestHashOf } from './domain.ts';
import { ProviderUnavailable } from './provider.ts';
import * as repo from './repository.ts';
import type { Settlement } from './settlement.ts';

/**
 * The payments module's interface, in process. A payment is written `pending` before the
 * provider is called, under a key the provider also receives; it is settled after. So a
 * retry, a racing request or a crash can ask the provider again, and money never moves twice.
 */
export class PaymentsService implements PaymentsApi {
  readonly #db: ModuleDatabase;
  readonly #uow: UnitOfWork;
  readonly #orders: OrdersApi;
  readonly #settlement: Settlement;

  constructor(deps: { db: ModuleDatabase; uow: UnitOfWork; orders: OrdersApi; settlement: Settlement }) {
    this.#db = deps.db;
    this.#uow = deps.uow;
    this.#orders = deps.orders;
    this.#settlement = deps.settlement;
  }

  async processPayment(command: ProcessPaymentCommand): Promise<ProcessPaymentResult> {
    // Through orders' interface (local or remote), never its tables. Throws order_not_found.
    const order = await this.#orders.getOrder(command.order_id);
    const orderId = order.id.toLowerCase();
    const customerId = order.customer_id.toLowerCase();
    const request = { customer_id: customerId, idempotency_key: command.idempotency_key, request_hash: requestHashOf(command) };
    const earlier = await repo.findByKey(this.#db.kysely, request);
    if (earlier) return this.#replay(earlier);

    assertPayable(order);
    const outcome = await this.#uow
      .run(async (tx) => {
        // Its cancellation already reached us (orders' answer was a moment old): take no money.
        // Locked, so a cancellation being handled right now is either seen here or sees this payment.
        await tx.lock('order', [orderId]);
        if (await repo.isOrderClosed(tx.db, orderId)) throw notPayable(`order ${orderId} is cancelled`, { current_status: 'cancelled' });
        return repo.createPending(tx.db, { id: randomUUID(), order_id: orderId, amount_cents: order.total_cents, payment_method: command.payment_method, ...request });
      })
      .catch((error: unknown) => {
        // The order's other unique rule (one payment in flight or captured) refused it; a racing
        // request with the same key can meet that rule before the key's, so read the key below.
        if (isUniqueViolation(error)) return undefined;
        throw error;
      });
    if (outcome?.created) return outcomeOf(repo.toPayment(await this.#drive(outcome.row)), true);

    // A racing request with the same key committed first: answer with its payment.
    const winner = outcome?.row ?? (await repo.findByKey(this.#db.kysely, request));
    if (winner) return this.#replay(winner);
    throw notPayable(`order ${orderId} already has a payment captured or in progress`);
  }

  async getPayment(id: string): Promise<Payment> {
    const row = await repo.findPayment(this.#db.kysely, id);
    if (!row) throw new ModuleError(PaymentsErrors.paymentNotFound, `no payment with id ${id}`);
    return repo.toPayment(row);
  }

  async listPaymentsForOrder(orderId: string): Promise<Payment[]> {
    return (await repo.listForOrder(this.#db.kysely, orderId.toLowerCase())).map(repo.toPayment);
  }

  /** The same key again (its fingerprint checked): the same payment; if still pending (an outage, a crash), settle it first. */
  async #replay(earlier: repo.StoredPayment): Promise<ProcessPaymentResult> {
    const current = earlier.status === 'pending' ? await this.#drive(earlier) : earlier;
    return outcomeOf(repo.toPayment(current), false);
  }

  async #drive(payment: repo.StoredPayment): Promise<repo.StoredPayment> {
    try {
      return await this.#settlement.charge(payment);
    } catch (error) {
      if (error instanceof ProviderUnavailable) throw providerUnavailable(payment.id);
      throw error;
    }
  }
}
