import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { PageQuery } from '@shop/contract-kit';
import { AdjustStockInput, CreateProductInput, InventoryErrors, Product, Reservation, type InventoryApi } from '@shop/inventory-contract';
import { PlatformErrors, idempotencyKeyOf, requireAdmin, sendPage } from '@shop/platform';

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const tags = ['inventory'];
const security = [{ bearerAuth: [] }];

/** Catalog, stock and reservations routes (mounted under /api). */
export function inventoryRoutes(api: InventoryApi): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/products',
      {
        schema: {
          tags,
          security,
          operationId: 'createProduct',
          summary: 'Add a product to the catalog (admin). Accepts an Idempotency-Key header.',
          body: CreateProductInput,
          response: { 200: Product, 201: Product },
          idempotencyKey: 'header',
          errors: [PlatformErrors.forbidden, InventoryErrors.skuConflict, InventoryErrors.idempotencyKeyReused],
        },
      },
      async (request, reply) => {
        const admin = requireAdmin(request);
        const key = idempotencyKeyOf(request, undefined);
        const result = await api.createProduct(request.body, key ? { idempotency_key: `${admin.sub}:${key}` } : {});
        return reply.code(result.created ? 201 : 200).send(result.product);
      },
    );

    app.get(
      '/products',
      { schema: { tags, security, operationId: 'listProducts', summary: 'The catalog, newest first', querystring: PageQuery, response: { 200: Type.Array(Product) } } },
      async (request, reply) => {
        const page = request.query.page ?? 0;
        return sendPage(request, reply, page, await api.listProducts(page));
      },
    );

    app.get(
      '/products/:id',
      { schema: { tags, security, operationId: 'getProduct', summary: 'One product', params: IdParams, response: { 200: Product }, errors: [InventoryErrors.productNotFound] } },
      async (request) => api.getProduct(request.params.id),
    );

    app.post(
      '/products/:id/stock',
      {
        schema: {
          tags,
          security,
          operationId: 'adjustStock',
          summary: 'Change the stock on hand by delta (admin); never below what is reserved',
          params: IdParams,
          body: AdjustStockInput,
          response: { 200: Product },
          errors: [PlatformErrors.forbidden, InventoryErrors.productNotFound, InventoryErrors.insufficientStock],
        },
      },
      async (request) => {
        requireAdmin(request);
        return api.adjustStock(request.params.id, request.body);
      },
    );

    app.get(
      '/reservations',
      {
        schema: {
          tags,
          security,
          operationId: 'listReservations',
          summary: "An order's reservations (admin)",
          querystring: Type.Object({ order_id: Type.String({ format: 'uuid' }) }, { additionalProperties: false }),
          response: { 200: Type.Array(Reservation) },
          errors: [PlatformErrors.forbidden],
        },
      },
      async (request) => {
        requireAdmin(request);
        return api.listReservations(request.query.order_id);
      },
    );
  };
}
