import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { PageQuery } from '@shop/contract-kit';
import { AdjustStockInput, CreateProductInput, Product, Reservation, type InventoryApi } from '@shop/inventory-contract';
import { idempotencyKeyOf, requireAdmin, sendPage } from '@shop/platform';

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
          summary: 'Add a product to the catalog (admin). Accepts an Idempotency-Key header.',
          body: CreateProductInput,
          response: { 200: Product, 201: Product },
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
      { schema: { tags, security, summary: 'The catalog, newest first', querystring: PageQuery, response: { 200: Type.Array(Product) } } },
      async (request, reply) => {
        const page = request.query.page ?? 0;
        return sendPage(request, reply, page, await api.listProducts(page));
      },
    );

    app.get(
      '/products/:id',
      { schema: { tags, security, summary: 'One product', params: IdParams, response: { 200: Product } } },
      async (request) => api.getProduct(request.params.id),
    );

    app.post(
      '/products/:id/stock',
      {
        schema: {
          tags,
          security,
          summary: 'Change the stock on hand by delta (admin); never below what is reserved',
          params: IdParams,
          body: AdjustStockInput,
          response: { 200: Product },
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
          summary: "An order's reservations (admin)",
          querystring: Type.Object({ order_id: Type.String({ format: 'uuid' }) }, { additionalProperties: false }),
          response: { 200: Type.Array(Reservation) },
        },
      },
      async (request) => {
        requireAdmin(request);
        return api.listReservations(request.query.order_id);
      },
    );
  };
}
