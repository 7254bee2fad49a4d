import https from 'node:https';
import { randomUUID } from 'node:crypto';
import type { Notification } from '@shop/notifications-contract';
import { startModuleTestKit, type ModuleTestKit } from '@shop/platform/testing';
import { createNotificationsModule, generateVapidKeys, notificationsMigrations, type DeliveryOptions } from '../../src/index.ts';
import { fakeInventory } from './fake-inventory.ts';
import { pushServiceCa } from './push-service.ts';

export const WIDGET = randomUUID();
export const GADGET = randomUUID();
export const PRODUCT_NAMES = { [WIDGET]: 'Blue Widget', [GADGET]: 'Pocket Gadget' };

/** Fast retries, so a test sees several tries in well under a second. */
export const TEST_DELIVERY: DeliveryOptions = { retryBaseMs: 30, retryMaxMs: 200, sweepIntervalMs: 25, maxAttempts: 8 };

export interface NotificationsHarness {
  readonly kit: ModuleTestKit;
  readonly module: ReturnType<typeof createNotificationsModule>;
  /** The stored notifications of one order (all columns), oldest first. */
  rowsOf(orderId: string): Promise<(Notification & { next_attempt_at: Date | null; event_id: string })[]>;
}

/** The notifications module on a fresh database; email when `smtpUrl` is given, push when `push` is true. */
export async function startNotifications(options: { smtpUrl?: string; push?: boolean; delivery?: DeliveryOptions; inventoryFailing?: boolean } = {}): Promise<NotificationsHarness> {
  const kit = await startModuleTestKit([notificationsMigrations]);
  const vapid = options.push ? { ...(await generateVapidKeys()), subject: 'mailto:ops@shop.test' } : undefined;
  const module = await kit.run(
    createNotificationsModule({
      ...kit.deps('notifications'),
      inventory: fakeInventory(PRODUCT_NAMES, { failing: options.inventoryFailing ?? false }),
      email: { ...(options.smtpUrl ? { smtpUrl: options.smtpUrl } : {}), from: 'Shop <orders@shop.test>' },
      push: { ...(vapid ? { vapid } : {}), agent: new https.Agent({ ca: pushServiceCa }) },
      delivery: { ...TEST_DELIVERY, ...options.delivery },
    }),
  );
  return {
    kit,
    module,
    rowsOf: (orderId) => kit.sql('SELECT * FROM notifications.notifications WHERE order_id = $1 ORDER BY created_at, channel', [orderId]),
  };
}

/** An order event payload as orders publishes it: 2 × Blue Widget at $5.00 and 1 × Pocket Gadget at $12.50. */
export function orderPayload(customerId: string, orderId = randomUUID()) {
  return {
    order_id: orderId,
    customer_id: customerId,
    items: [
      { product_id: WIDGET, quantity: 2, unit_price_cents: 500 },
      { product_id: GADGET, quantity: 1, unit_price_cents: 1250 },
    ],
    total_cents: 2250,
  };
}
