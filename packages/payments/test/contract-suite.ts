import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { InventoryApi } from '@shop/inventory-contract';
import { OrdersErrors, type OrdersApi } from '@shop/orders-contract';
import { PaymentsErrors, type PaymentsApi } from '@shop/payments-contract';
import { RFC3339, eventually, expectModuleError, type ContractTarget } from '@shop/platform/testing';

/** The interfaces the payments suite uses: payments', and orders' and inventory's to make an order. */
export interface PaymentsContractApis {
  readonly payments: PaymentsApi;
  readonly orders: OrdersApi;
  readonly inventory: InventoryApi;
}

/**
 * The contract of `PaymentsApi`, written once and run against every implementation of it: the
 * module in process, and its HTTP client talking to a process that hosts it. Payment methods
 * are Stripe's test-mode names (the deployment's provider is the deterministic test one).
 */
export function paymentsContractSuite(name: string, target: () => ContractTarget<PaymentsContractApis>): void {
  describe(`PaymentsApi contract (${name})`, () => {
    const payments = () => target().apis.payments;
    const orders = () => target().apis.orders;

    /** A pending order of 2 × 1 250 whose stock is reserved. */
    async function pendingOrder() {
      const { product } = await target().apis.inventory.createProduct({
        sku: `CT-PAY-${randomUUID().slice(0, 13)}`,
        name: 'Contract kettle',
        price_cents: 1_250,
        stock_quantity: 10,
      });
      const { order } = await orders().createOrder({ customer_id: randomUUID(), items: [{ product_id: product.id, quantity: 2 }], idempotency_key: randomUUID() });
      await eventually(async () => expect(await target().apis.inventory.listReservations(order.id)).toHaveLength(1));
      return order;
    }

    const pay = (order_id: string, payment_method: string, idempotency_key = randomUUID()) =>
      payments().processPayment({ order_id, payment_method, idempotency_key });

    it("processPayment with pm_card_visa captures the order's total (created: true); getPayment answers the same payment", async () => {
      const order = await pendingOrder();
      const result = await pay(order.id, 'pm_card_visa');
      expect(result).toEqual({
        created: true,
        payment: {
          id: expect.any(String),
          order_id: order.id,
          amount_cents: 2_500,
          status: 'captured',
          failure_reason: null,
          provider_ref: expect.stringMatching(/^pi_/),
          created_at: expect.stringMatching(RFC3339),
        },
      });
      expect(await payments().getPayment(result.payment.id)).toEqual(result.payment);
      // The saga confirms the order.
      await eventually(async () => expect((await orders().getOrder(order.id)).status).toBe('confirmed'));
    });

    it('processPayment replayed with the same key answers the same payment (created: false) and charges once', async () => {
      const order = await pendingOrder();
      const key = randomUUID();
      const first = await pay(order.id, 'pm_card_visa', key);
      const again = await pay(order.id, 'pm_card_visa', key);
      expect(again).toEqual({ created: false, payment: first.payment });
      // Even once the order is confirmed, the same key still answers the same payment.
      await eventually(async () => expect((await orders().getOrder(order.id)).status).toBe('confirmed'));
      expect(await pay(order.id, 'pm_card_visa', key)).toEqual({ created: false, payment: first.payment });
      expect(await payments().listPaymentsForOrder(order.id)).toEqual([first.payment]);
    });

    it('processPayment retried concurrently with one key charges once', async () => {
      const order = await pendingOrder();
      const key = randomUUID();
      const results = await Promise.all(Array.from({ length: 4 }, () => pay(order.id, 'pm_card_visa', key)));
      expect(results.filter((result) => result.created)).toHaveLength(1);
      expect(new Set(results.map((result) => result.payment.id)).size).toBe(1);
      expect(await payments().listPaymentsForOrder(order.id)).toEqual([results.find((result) => result.created)!.payment]);
    });

    it('processPayment with a used key and another payment method throws idempotency_key_reused', async () => {
      const order = await pendingOrder();
      const key = randomUUID();
      await pay(order.id, 'pm_card_visa', key);
      await expectModuleError(pay(order.id, 'pm_card_mastercard', key), PaymentsErrors.idempotencyKeyReused);
      expect(await payments().listPaymentsForOrder(order.id)).toHaveLength(1);
    });

    it('processPayment with pm_card_chargeDeclined throws payment_declined naming the failed payment, which is kept', async () => {
      const order = await pendingOrder();
      const key = randomUUID();
      const error = await expectModuleError(pay(order.id, 'pm_card_chargeDeclined', key), PaymentsErrors.paymentDeclined, {
        detail: /card_declined/,
        extensions: { payment_id: expect.any(String), failure_reason: 'card_declined' },
      });
      const paymentId = error.extensions.payment_id as string;
      const failed = await payments().getPayment(paymentId);
      expect(failed).toEqual({
        id: paymentId,
        order_id: order.id,
        amount_cents: 2_500,
        status: 'failed',
        failure_reason: 'card_declined',
        provider_ref: failed.provider_ref,
        created_at: expect.stringMatching(RFC3339),
      });
      // A retry of the same key answers the same decline, about the same payment: nothing new.
      await expectModuleError(pay(order.id, 'pm_card_chargeDeclined', key), PaymentsErrors.paymentDeclined, {
        extensions: { payment_id: paymentId, failure_reason: 'card_declined' },
      });
      expect((await orders().getOrder(order.id)).status).toBe('pending');

      // The order is still payable with another card: both attempts are listed, newest first.
      const captured = await pay(order.id, 'pm_card_visa');
      expect(captured.payment.status).toBe('captured');
      expect(await payments().listPaymentsForOrder(order.id)).toEqual([captured.payment, failed]);
    });

    it('processPayment with pm_card_insufficientFunds is declined with its own reason', async () => {
      const order = await pendingOrder();
      await expectModuleError(pay(order.id, 'pm_card_insufficientFunds'), PaymentsErrors.paymentDeclined, {
        detail: /insufficient_funds/,
        extensions: { payment_id: expect.any(String), failure_reason: 'insufficient_funds' },
      });
    });

    it('processPayment throws order_not_payable for an order already paid, and for a confirmed one', async () => {
      const order = await pendingOrder();
      await pay(order.id, 'pm_card_visa');
      await eventually(async () => expect((await orders().getOrder(order.id)).status).toBe('confirmed'));
      await expectModuleError(pay(order.id, 'pm_card_visa'), PaymentsErrors.orderNotPayable, {
        detail: new RegExp(`order ${order.id} is confirmed; only a pending order can be paid`),
        extensions: { current_status: 'confirmed' },
      });
      expect(await payments().listPaymentsForOrder(order.id)).toHaveLength(1);
    });

    it('processPayment throws order_not_payable for a cancelled order, and takes no money', async () => {
      const order = await pendingOrder();
      await orders().cancelOrder(order.id, 'changed my mind');
      await expectModuleError(pay(order.id, 'pm_card_visa'), PaymentsErrors.orderNotPayable, { extensions: { current_status: 'cancelled' } });
      expect(await payments().listPaymentsForOrder(order.id)).toEqual([]);
    });

    it("processPayment throws orders' order_not_found for an unknown order", async () => {
      const id = randomUUID();
      await expectModuleError(pay(id, 'pm_card_visa'), OrdersErrors.orderNotFound, { detail: new RegExp(id) });
    });

    it('getPayment throws payment_not_found naming the id', async () => {
      const id = randomUUID();
      await expectModuleError(payments().getPayment(id), PaymentsErrors.paymentNotFound, { detail: new RegExp(`no payment with id ${id}`) });
    });

    it('listPaymentsForOrder answers nothing for an order without payments, or an unknown one', async () => {
      const order = await pendingOrder();
      expect(await payments().listPaymentsForOrder(order.id)).toEqual([]);
      expect(await payments().listPaymentsForOrder(randomUUID())).toEqual([]);
    });

    it('a captured payment is refunded when its order is cancelled', async () => {
      const order = await pendingOrder();
      const { payment } = await pay(order.id, 'pm_card_visa');
      await eventually(async () => expect((await orders().getOrder(order.id)).status).toBe('confirmed'));
      await orders().cancelOrder(order.id, 'returned');
      await eventually(async () => expect(await payments().getPayment(payment.id)).toEqual({ ...payment, status: 'refunded' }));
      expect(await payments().listPaymentsForOrder(order.id.toUpperCase())).toEqual([{ ...payment, status: 'refunded' }]);
    });
  });
}
