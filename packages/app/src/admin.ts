import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ModuleError } from '@shop/contract-kit';
import { PlatformErrors, requireAdmin, type ModuleInstance } from '@shop/platform';

const OutboxEvent = Type.Object({
  module: Type.String(),
  id: Type.String({ format: 'uuid' }),
  event_type: Type.String(),
  status: Type.String(),
  attempts: Type.Integer(),
  last_error: Type.Union([Type.String(), Type.Null()]),
  occurred_at: Type.String({ format: 'date-time' }),
  payload: Type.Unknown(),
}, { $id: 'OutboxEvent' });

/** What an operator needs when events get stuck: see failed (poison) events and retry them. */
export function adminRoutes(modules: readonly ModuleInstance[]): FastifyPluginAsyncTypebox {
  const byName = new Map(modules.map((module) => [module.name, module]));
  return async (app) => {
    app.get(
      '/admin/outbox',
      {
        schema: {
          tags: ['admin'],
          security: [{ bearerAuth: [] }],
          operationId: 'listOutboxEvents',
          summary: 'Outbox events by status across modules (admin); failed ones need attention',
          errors: [PlatformErrors.forbidden],
          querystring: Type.Object(
            { status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('failed'), Type.Literal('delivered')], { default: 'failed' })) },
            { additionalProperties: false },
          ),
          response: { 200: Type.Array(OutboxEvent) },
        },
      },
      async (request) => {
        requireAdmin(request);
        const status = request.query.status ?? 'failed';
        const lists = await Promise.all(
          modules.map(async (module) =>
            (await module.outbox.list(status)).map((row) => ({ module: module.name, ...row, occurred_at: row.occurred_at.toISOString() })),
          ),
        );
        return lists.flat();
      },
    );

    app.post(
      '/admin/outbox/:module/:id/retry',
      {
        schema: {
          tags: ['admin'],
          security: [{ bearerAuth: [] }],
          operationId: 'retryOutboxEvent',
          summary: 'Put a failed event back in line (admin)',
          errors: [PlatformErrors.forbidden, PlatformErrors.notFound],
          params: Type.Object({ module: Type.String(), id: Type.String({ format: 'uuid' }) }),
          response: { 200: Type.Object({ retried: Type.Boolean() }) },
        },
      },
      async (request) => {
        requireAdmin(request);
        const module = byName.get(request.params.module);
        if (!module || !(await module.outbox.retry(request.params.id))) {
          throw new ModuleError(PlatformErrors.notFound, `no failed event ${request.params.id} in module ${request.params.module}`);
        }
        return { retried: true };
      },
    );
  };
}
