import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ModuleError, PageQuery } from '@shop/contract-kit';
import { Contact, Notification, NotificationsErrors, SetContactBody, type NotificationsApi } from '@shop/notifications-contract';
import { PlatformErrors, canAccess, principalOf, sendPage } from '@shop/platform';
import type { FastifyRequest } from 'fastify';

const CustomerParams = Type.Object({ customer_id: Type.String({ format: 'uuid' }) });
const tags = ['notifications'];
const security = [{ bearerAuth: [] }];

/**
 * Notifications routes (mounted under /api). A customer reaches its own contact and
 * notifications only; another customer's answer 404, as if they did not exist. Admin: any.
 */
export function notificationsRoutes(api: NotificationsApi): FastifyPluginAsyncTypebox {
  function ownCustomer(request: FastifyRequest, customerId: string): string {
    if (!canAccess(principalOf(request), customerId)) throw new ModuleError(PlatformErrors.notFound, `no customer with id ${customerId}`);
    return customerId.toLowerCase();
  }

  return async (app) => {
    app.get(
      '/notifications/push-key',
      {
        schema: {
          tags,
          security,
          operationId: 'getPushKey',
          summary: "The server's VAPID public key, for a browser's pushManager.subscribe({ applicationServerKey }); 404 when Web Push is off",
          response: { 200: Type.Object({ public_key: Type.String() }, { $id: 'PushKey' }) },
          errors: [PlatformErrors.notFound],
        },
      },
      async () => {
        const vapidPublicKey = await api.getPushPublicKey();
        if (!vapidPublicKey) throw new ModuleError(PlatformErrors.notFound, 'Web Push is not configured on this server (no VAPID keys)');
        return { public_key: vapidPublicKey };
      },
    );

    app.put(
      '/customers/:customer_id/contact',
      {
        schema: {
          tags,
          security,
          operationId: 'setContact',
          summary: 'Set how the customer is notified: an email address and/or a Web Push subscription (HTTPS endpoint). Replaces the previous settings; a channel left out is switched off.',
          params: CustomerParams,
          body: SetContactBody,
          response: { 200: Contact },
          errors: [PlatformErrors.notFound],
        },
      },
      async (request) => api.setContact(ownCustomer(request, request.params.customer_id), request.body),
    );

    app.get(
      '/customers/:customer_id/contact',
      {
        schema: {
          tags,
          security,
          operationId: 'getContact',
          summary: "The customer's contact settings (404 contact_not_found if never set)",
          params: CustomerParams,
          response: { 200: Contact },
          errors: [PlatformErrors.notFound, NotificationsErrors.contactNotFound],
        },
      },
      async (request) => api.getContact(ownCustomer(request, request.params.customer_id)),
    );

    app.get(
      '/customers/:customer_id/notifications',
      {
        schema: {
          tags,
          security,
          operationId: 'listNotifications',
          summary: "The customer's notifications (order confirmed, cancelled, shipped; one per channel), newest first",
          params: CustomerParams,
          querystring: PageQuery,
          response: { 200: Type.Array(Notification) },
          errors: [PlatformErrors.notFound],
        },
      },
      async (request, reply) => {
        const customerId = ownCustomer(request, request.params.customer_id);
        const page = request.query.page ?? 0;
        return sendPage(request, reply, page, await api.listNotifications(customerId, page));
      },
    );
  };
}
