import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ModuleError } from '@shop/contract-kit';
import { OrdersErrors, type OrdersApi } from '@shop/orders-contract';
import { CreatePaymentBody, Payment, PaymentsErrors, PaymentsQuery, type PaymentsApi } from '@shop/payments-contract';
import { canAccess, IDEMPOTENCY_KEY_SOURCES, idempotencyKeyOf, principalOf, type Principal } from '@shop/platform';

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const tags = ['payments'];
const security = [{ bearerAuth: [] }];

/**
 * Payments routes (mounted under /api). Ownership is the order's: a customer pays for, and
 * sees the payments of, its own orders only; another customer's answers exactly as a missing one.
 */
export function paymentsRoutes(api: PaymentsApi, orders: OrdersApi): FastifyPluginAsyncTypebox {
  /** Whether the caller owns the order (admins own everything); a missing order is not owned. */
  async function owns(principal: Principal, orderId: string): Promise<boolean> {
    if (principal.isAdmin) return true;
    try {
      return canAccess(principal, (await orders.getOrder(orderId)).customer_id);
    } catch (error) {
      if (error instanceof ModuleError && error.code === OrdersErrors.orderNotFound.code) return false;
      throw error;
    }
  }

  const orderNotFound = (id: string) => new ModuleError(OrdersErrors.orderNotFound, `no order with id ${id}`);

  return async (app) => {
    app.post(
      '/payments',
      {
        schema: {
          tags,
          security,
          summary:
            "Pay for a pending order: its total is charged with the payment method. Needs an idempotency key (body field or Idempotency-Key header); a retry with the same key answers 200 with the same payment. A decline answers 402 payment_declined and the failed payment is kept.",
          description: IDEMPOTENCY_KEY_SOURCES,
          operationId: 'createPayment',
          body: CreatePaymentBody,
          response: { 200: Payment, 201: Payment },
          idempotencyKey: 'body-or-header',
          errors: [
            OrdersErrors.orderNotFound,
            PaymentsErrors.paymentDeclined,
            PaymentsErrors.orderNotPayable,
            PaymentsErrors.idempotencyKeyReused,
            PaymentsErrors.providerUnavailable,
          ],
        },
      },
      async (request, reply) => {
        const key = idempotencyKeyOf(request, request.body.idempotency_key, { required: true });
        if (!(await owns(principalOf(request), request.body.order_id))) throw orderNotFound(request.body.order_id);
        const result = await api.processPayment({ order_id: request.body.order_id, payment_method: request.body.payment_method, idempotency_key: key });
        return reply.code(result.created ? 201 : 200).send(result.payment);
      },
    );

    app.get(
      '/payments/:id',
      {
        schema: {
          tags,
          security,
          operationId: 'getPayment',
          summary: 'One payment (of your own order, or any as admin)',
          params: IdParams,
          response: { 200: Payment },
          errors: [PaymentsErrors.paymentNotFound],
        },
      },
      async (request) => {
        const payment = await api.getPayment(request.params.id);
        if (!(await owns(principalOf(request), payment.order_id))) throw new ModuleError(PaymentsErrors.paymentNotFound, `no payment with id ${request.params.id}`);
        return payment;
      },
    );

    app.get(
      '/payments',
      {
        schema: {
          tags,
          security,
          summary: "Every payment attempt for an order (your own, or any as admin), newest first",
          operationId: 'listPayments',
          querystring: PaymentsQuery,
          response: { 200: Type.Array(Payment) },
          errors: [OrdersErrors.orderNotFound],
        },
      },
      async (request) => {
        if (!(await owns(principalOf(request), request.query.order_id))) throw orderNotFound(request.query.order_id);
        return api.listPaymentsForOrder(request.query.order_id);
      },
    );
  };
}
