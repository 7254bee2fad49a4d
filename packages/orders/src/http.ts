import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ModuleError, PageQuery } from '@shop/contract-kit';
import { CancelOrderBody, CreateOrderBody, Order, OrdersErrors, type OrdersApi } from '@shop/orders-contract';
import { PlatformErrors, canAccess, forbidden, IDEMPOTENCY_KEY_SOURCES, idempotencyKeyOf, principalOf, requireAdmin, sendPage, type Principal } from '@shop/platform';

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const tags = ['orders'];
const security = [{ bearerAuth: [] }];

/** Orders routes (mounted under /api). Ownership is enforced here: another customer's order is a 404. */
export function ordersRoutes(api: OrdersApi): FastifyPluginAsyncTypebox {
  /** The order, if the caller may see it; otherwise the same 404 as a missing one. */
  async function visibleOrder(principal: Principal, id: string) {
    const order = await api.getOrder(id);
    if (!canAccess(principal, order.customer_id)) throw new ModuleError(OrdersErrors.orderNotFound, `no order with id ${id}`);
    return order;
  }

  return async (app) => {
    app.post(
      '/orders',
      {
        schema: {
          tags,
          security,
          operationId: 'createOrder',
          summary: 'Place an order. Needs an idempotency key (body field or Idempotency-Key header); prices come from the catalog.',
          description: IDEMPOTENCY_KEY_SOURCES,
          body: CreateOrderBody,
          response: { 200: Order, 201: Order },
          idempotencyKey: 'body-or-header',
          errors: [PlatformErrors.forbidden, OrdersErrors.productNotFound, OrdersErrors.idempotencyKeyReused],
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const customerId = request.body.customer_id ?? principal.sub;
        if (!canAccess(principal, customerId)) throw forbidden('customer_id must be your own');
        const key = idempotencyKeyOf(request, request.body.idempotency_key, { required: true });
        const result = await api.createOrder({ customer_id: customerId, items: request.body.items, idempotency_key: key });
        return reply.code(result.created ? 201 : 200).send(result.order);
      },
    );

    app.get(
      '/orders/:id',
      { schema: { tags, security, operationId: 'getOrder', summary: 'One order (your own, or any as admin)', params: IdParams, response: { 200: Order }, errors: [OrdersErrors.orderNotFound] } },
      async (request) => visibleOrder(principalOf(request), request.params.id),
    );

    app.get(
      '/customers/:customer_id/orders',
      {
        schema: {
          tags,
          security,
          operationId: 'listCustomerOrders',
          summary: "A customer's orders, newest first",
          params: Type.Object({ customer_id: Type.String({ format: 'uuid' }) }),
          querystring: PageQuery,
          response: { 200: Type.Array(Order) },
          errors: [PlatformErrors.notFound],
        },
      },
      async (request, reply) => {
        if (!canAccess(principalOf(request), request.params.customer_id)) {
          throw new ModuleError(PlatformErrors.notFound, `no customer with id ${request.params.customer_id}`);
        }
        const page = request.query.page ?? 0;
        return sendPage(request, reply, page, await api.listOrdersForCustomer(request.params.customer_id, page));
      },
    );

    app.post(
      '/orders/:id/cancel',
      {
        schema: {
          tags,
          security,
          operationId: 'cancelOrder',
          summary: 'Cancel a pending or confirmed order (a captured payment is refunded)',
          params: IdParams,
          body: CancelOrderBody,
          response: { 200: Order },
          errors: [OrdersErrors.orderNotFound, OrdersErrors.invalidStateTransition],
        },
        // The body is optional: no body means no reason given.
        preValidation: async (request) => {
          request.body ??= {};
        },
      },
      async (request) => {
        const principal = principalOf(request);
        await visibleOrder(principal, request.params.id);
        const reason = request.body.reason ?? (principal.isAdmin ? 'cancelled_by_admin' : 'cancelled_by_customer');
        return api.cancelOrder(request.params.id, reason);
      },
    );

    for (const [action, summary] of [
      ['ship', 'Ship a confirmed order (admin); its reserved stock leaves for good'],
      ['deliver', 'Mark a shipped order delivered (admin)'],
    ] as const) {
      app.post(
        `/orders/:id/${action}`,
        {
          schema: {
            tags,
            security,
            operationId: `${action}Order`,
            summary,
            params: IdParams,
            response: { 200: Order },
            errors: [PlatformErrors.forbidden, OrdersErrors.orderNotFound, OrdersErrors.invalidStateTransition],
          },
        },
        async (request) => {
          requireAdmin(request);
          return action === 'ship' ? api.shipOrder(request.params.id) : api.deliverOrder(request.params.id);
        },
      );
    }
  };
}
