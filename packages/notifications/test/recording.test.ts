import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotificationSent } from '@shop/notifications-contract';
import { OrderCancelled, OrderConfirmed, OrderShipped } from '@shop/orders-contract';
import { eventually } from '@shop/platform/testing';
import { subscribeBrowser } from './support/browser.ts';
import { orderPayload, startNotifications, type NotificationsHarness } from './support/harness.ts';
import { LocalPushService } from './support/push-service.ts';
import { SmtpSink } from './support/smtp-sink.ts';

/** What is recorded per order event: one row per channel set, or one skipped row. */
const smtp = new SmtpSink();
const pushService = new LocalPushService();
let h: NotificationsHarness;

beforeAll(async () => {
  await Promise.all([smtp.start(), pushService.start()]);
  h = await startNotifications({ smtpUrl: smtp.url, push: true });
});
afterAll(async () => {
  await h?.kit.stop();
  await Promise.all([smtp.stop(), pushService.stop()]);
});

const EVENTS = [
  ['OrderConfirmed', (customerId: string) => h.kit.scenario.publish(OrderConfirmed, orderPayload(customerId)), 'order_confirmed'],
  ['OrderCancelled', (customerId: string) => h.kit.scenario.publish(OrderCancelled, { ...orderPayload(customerId), reason: 'cancelled_by_admin', previous_status: 'confirmed' }), 'order_cancelled'],
  ['OrderShipped', (customerId: string) => h.kit.scenario.publish(OrderShipped, orderPayload(customerId)), 'order_shipped'],
] as const;

describe('what an order event records', () => {
  it.each(EVENTS)('%s for a customer without contact settings: one skipped notification on channel none', async (_type, publish, kind) => {
    const customerId = randomUUID();
    const { value: rows } = await publish(customerId).andWaitForStateChange(
      () => h.kit.sql('SELECT * FROM notifications.notifications WHERE customer_id = $1', [customerId]),
      (found) => found.length > 0,
    );
    expect(rows).toMatchObject([{ channel: 'none', kind, status: 'skipped', attempts: 0, detail: 'the customer has no contact settings', next_attempt_at: null }]);
  });

  it.each(EVENTS)('%s for a customer with email and push: exactly two notifications, both sent, each announced once', async (_type, publish, kind) => {
    const customerId = randomUUID();
    const endpoint = randomUUID();
    await h.module.api.setContact(customerId, { email: `both-${customerId}@example.test`, push_subscription: subscribeBrowser(pushService.endpoint(endpoint)).subscription });
    const { result: event } = await publish(customerId).andWaitForEvent(NotificationSent, (sent) => sent.customer_id === customerId && sent.channel === 'push');
    const orderId = (event.payload as { order_id: string }).order_id;
    await eventually(async () => expect((await h.rowsOf(orderId)).map((row) => row.status)).toEqual(['sent', 'sent']));

    // Redelivered, the event changes nothing: no new row, no new message, no new NotificationSent.
    await h.kit.scenario.redeliver(event);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const rows = await h.rowsOf(orderId);
    expect(rows.map((row) => [row.channel, row.kind, row.status, row.attempts])).toEqual([
      ['email', kind, 'sent', 1],
      ['push', kind, 'sent', 1],
    ]);
    expect(smtp.received.filter((mail) => mail.to.includes(`both-${customerId}@example.test`))).toHaveLength(1);
    expect(pushService.requestsTo(endpoint)).toHaveLength(1);
    const announced = h.kit.scenario.eventsOf(NotificationSent, (sent) => sent.order_id === orderId);
    expect(announced.map((sent) => sent.channel).sort()).toEqual(['email', 'push']);
    expect(new Set(announced.map((sent) => sent.notification_id))).toEqual(new Set(rows.map((row) => row.id)));
  });

  it('stores the contact as it was at the event: a later change does not redirect a queued notification', async () => {
    const customerId = randomUUID();
    await h.module.api.setContact(customerId, { email: `before-${customerId}@example.test` });
    const payload = orderPayload(customerId);
    await h.kit.scenario.publish(OrderConfirmed, payload).andWaitForEvent(NotificationSent, (sent) => sent.order_id === payload.order_id);
    await h.module.api.setContact(customerId, {});
    expect(smtp.received.some((mail) => mail.to.includes(`before-${customerId}@example.test`))).toBe(true);
    // With no channel left, the next event is recorded as skipped.
    const next = orderPayload(customerId);
    await h.kit.scenario.publish(OrderShipped, next).andWaitForStateChange(() => h.rowsOf(next.order_id), (rows) => rows.length > 0);
    expect(await h.rowsOf(next.order_id)).toMatchObject([{ channel: 'none', status: 'skipped' }]);
  });
});

describe('a channel this process cannot send on', () => {
  it('is recorded skipped, saying why, and nothing is attempted', async () => {
    const bare = await startNotifications();
    try {
      const customerId = randomUUID();
      await bare.module.api.setContact(customerId, { email: 'x@example.test', push_subscription: subscribeBrowser(pushService.endpoint('never')).subscription });
      const payload = orderPayload(customerId);
      await bare.kit.scenario.publish(OrderConfirmed, payload).andExpectNoEvent(NotificationSent);
      expect(await bare.rowsOf(payload.order_id)).toMatchObject([
        { channel: 'email', status: 'skipped', attempts: 0, detail: 'email is not configured on this server (no SMTP_URL)' },
        { channel: 'push', status: 'skipped', attempts: 0, detail: 'Web Push is not configured on this server (no VAPID keys)' },
      ]);
      expect(pushService.requestsTo('never')).toHaveLength(0);
    } finally {
      await bare.kit.stop();
    }
  });
});
