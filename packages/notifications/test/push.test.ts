import { randomUUID } from 'node:crypto';
import { decrypt } from 'http_ece';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotificationSent } from '@shop/notifications-contract';
import { OrderCancelled, OrderShipped } from '@shop/orders-contract';
import { subscribeBrowser } from './support/browser.ts';
import { orderPayload, startNotifications, type NotificationsHarness } from './support/harness.ts';
import { LocalPushService } from './support/push-service.ts';

const pushService = new LocalPushService();
let h: NotificationsHarness;

beforeAll(async () => {
  await pushService.start();
  h = await startNotifications({ push: true });
});
afterAll(async () => {
  await h?.kit.stop();
  await pushService.stop();
});

async function subscribedCustomer(name: string) {
  const customerId = randomUUID();
  const browser = subscribeBrowser(pushService.endpoint(name));
  await h.module.api.setContact(customerId, { push_subscription: browser.subscription });
  return { customerId, browser };
}

describe('Web Push notifications', () => {
  it('posts an encrypted, VAPID-signed message that the browser can decrypt', async () => {
    const name = randomUUID();
    const { customerId, browser } = await subscribedCustomer(name);
    const payload = orderPayload(customerId);
    const { payload: sent } = await h.kit.scenario
      .publish(OrderShipped, payload)
      .andWaitForEvent(NotificationSent, (event) => event.order_id === payload.order_id);
    expect(sent).toMatchObject({ channel: 'push', kind: 'order_shipped', customer_id: customerId });

    const [request] = pushService.requestsTo(name);
    expect(request!.method).toBe('POST');
    expect(request!.headers['content-encoding']).toBe('aes128gcm');
    expect(request!.headers.ttl).toBe('86400');
    expect(request!.headers.authorization).toMatch(/^vapid t=[\w-]+\.[\w-]+\.[\w-]+, k=[\w-]+$/);

    const message = JSON.parse(decrypt(request!.body, { version: 'aes128gcm', privateKey: browser.ecdh, authSecret: browser.authSecret }).toString('utf8'));
    const number = `#${payload.order_id.replace(/-/g, '').slice(0, 8).toUpperCase()}`;
    expect(message).toEqual({ title: `Your order ${number} has shipped`, body: '3 items, $22.50.', kind: 'order_shipped', order_id: payload.order_id });
  });

  it('gives up at once when the push service says the subscription is gone (410), and forgets it', async () => {
    const name = randomUUID();
    const { customerId } = await subscribedCustomer(name);
    const payload = { ...orderPayload(customerId), reason: 'cancelled_by_customer', previous_status: 'confirmed' as const };
    pushService.answerWith = 410;
    try {
      const { value: [row] } = await h.kit.scenario.publish(OrderCancelled, payload).andWaitForStateChange(
        () => h.rowsOf(payload.order_id),
        (rows) => rows[0]?.status === 'failed',
      );
      expect(row).toMatchObject({ channel: 'push', attempts: 1, next_attempt_at: null });
      expect(row!.detail).toMatch(/subscription is gone .*410.*not retried/);
      // Several sweeps later: still one try, no event, and the dead subscription is gone from the contact.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(pushService.requestsTo(name)).toHaveLength(1);
      expect((await h.rowsOf(payload.order_id))[0]).toMatchObject({ status: 'failed', attempts: 1 });
      expect(h.kit.scenario.eventsOf(NotificationSent, (event) => event.order_id === payload.order_id)).toHaveLength(0);
      expect((await h.module.api.getContact(customerId)).push_subscription).toBeNull();
    } finally {
      pushService.answerWith = 201;
    }
  });

  it('retries a push service that answers 503, then delivers', async () => {
    const name = randomUUID();
    const { customerId } = await subscribedCustomer(name);
    const payload = orderPayload(customerId);
    pushService.answerWith = 503;
    try {
      await h.kit.scenario.publish(OrderShipped, payload).andWaitForStateChange(
        () => h.rowsOf(payload.order_id),
        ([row]) => row?.status === 'failed' && row.attempts >= 2,
      );
      expect((await h.rowsOf(payload.order_id))[0]!.detail).toContain('push service answered 503');
    } finally {
      pushService.answerWith = 201;
    }
    await h.kit.scenario.stimulate(async () => undefined).andWaitForEvent(NotificationSent, (event) => event.order_id === payload.order_id);
    expect((await h.rowsOf(payload.order_id))[0]).toMatchObject({ status: 'sent', detail: null });
  });
});
