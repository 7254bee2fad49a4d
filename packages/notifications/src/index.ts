import type https from 'node:https';
import { InventoryContract, type InventoryApi } from '@shop/inventory-contract';
import { NotificationsContract, type NotificationsApi } from '@shop/notifications-contract';
import { createModuleRuntime, defineModule, type ModuleDeps, type ModuleInstance, type ModuleMigrations } from '@shop/platform';
import { EmailChannel } from './channels/email.ts';
import { PushChannel } from './channels/push.ts';
import { notificationsSubscriptions } from './handlers.ts';
import { notificationsRoutes } from './http.ts';
import { NotificationSender, type Channels, type DeliveryOptions } from './sender.ts';
import { NotificationsService } from './service.ts';
import type { NotificationsConfig } from './settings.ts';
import { resolveVapidKeys } from './vapid-keys.ts';

export { generateVapidKeys } from './channels/push.ts';
export type { DeliveryOptions } from './sender.ts';

export interface NotificationsModuleDeps extends ModuleDeps {
  /** Product names for emails, read through inventory's interface (local or remote). */
  readonly inventory: InventoryApi;
  /** No `smtpUrl`: email is not available, and email notifications are recorded `skipped`. */
  readonly email: { smtpUrl?: string; from: string };
  /** No `vapid` keys: Web Push is not available, and push notifications are recorded `skipped`. */
  readonly push: { vapid?: { publicKey: string; privateKey: string; subject: string }; agent?: https.Agent };
  readonly delivery?: DeliveryOptions;
}

/** Builds the notifications module: order events in, emails and Web Push out. */
export function createNotificationsModule(deps: NotificationsModuleDeps): ModuleInstance<NotificationsApi> {
  const runtime = createModuleRuntime('notifications', deps);
  const channels: Channels = {};
  if (deps.email.smtpUrl) channels.email = new EmailChannel({ smtpUrl: deps.email.smtpUrl, from: deps.email.from }, { inventory: deps.inventory, logger: runtime.logger });
  if (deps.push.vapid) channels.push = new PushChannel({ vapid: deps.push.vapid, ...(deps.push.agent ? { agent: deps.push.agent } : {}) });

  const service = new NotificationsService({
    db: deps.db,
    available: { email: !!channels.email, push: !!channels.push },
    pushPublicKey: deps.push.vapid?.publicKey ?? null,
  });
  const sender = new NotificationSender({ db: deps.db, uow: runtime.uow, channels, logger: runtime.logger, callOut: runtime.callOut }, deps.delivery);
  return runtime.instance<NotificationsApi>({
    api: service,
    subscriptions: notificationsSubscriptions(runtime.uow, service, () => sender.kick()),
    // Sends under way finish (and publish NotificationSent) before the outbox drains.
    workers: [sender],
  });
}
/** The module's public routes over any implementation of its interface (local, remote, or switched). */
export { notificationsRoutes } from './http.ts';

/** The notifications module as the composition root hosts it, reaches it, and serves its routes. */
export const notificationsModule = defineModule<NotificationsApi, { inventory: typeof InventoryContract }, NotificationsConfig>({
  contract: NotificationsContract,
  migrations: new URL('../migrations/', import.meta.url),
  uses: { inventory: InventoryContract },
  routes: (api) => notificationsRoutes(api),
  create: async (deps, { uses, settings, host }) => {
    const vapid = await resolveVapidKeys(settings, host, deps.logger);
    return createNotificationsModule({
      ...deps,
      inventory: uses.inventory,
      email: { ...(settings.smtpUrl ? { smtpUrl: settings.smtpUrl } : {}), from: settings.emailFrom },
      push: { ...(vapid ? { vapid } : {}), ...(host.httpsAgent ? { agent: host.httpsAgent } : {}) },
      delivery: { maxAttempts: settings.maxAttempts, retryBaseMs: settings.retryBaseMs, sweepIntervalMs: settings.sweepIntervalMs },
    });
  },
});

/** Its schema and migrations folder, as the definition derives them (what module tests migrate). */
export const notificationsMigrations: ModuleMigrations = notificationsModule.migrations;
