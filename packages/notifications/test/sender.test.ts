import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NotificationSent } from '@shop/notifications-contract';
import { OrderConfirmed } from '@shop/orders-contract';
import { eventually } from '@shop/platform/testing';
import { orderPayload, startNotifications, WIDGET, type NotificationsHarness } from './support/harness.ts';
import { SmtpSink } from './support/smtp-sink.ts';

/** How the sender behaves when things go wrong around it. */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function harness(options: Parameters<typeof startNotifications>[0]): Promise<NotificationsHarness> {
  const h = await startNotifications(options);
  cleanups.push(() => h.kit.stop());
  return h;
}

async function smtpSink(): Promise<SmtpSink> {
  const sink = await new SmtpSink().start();
  cleanups.push(() => sink.stop());
  return sink;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('the notification sender', () => {
  it('stops trying after maxAttempts and leaves the notification failed for good', async () => {
    const h = await harness({ smtpUrl: `smtp://127.0.0.1:${await closedPort()}`, delivery: { maxAttempts: 3 } });
    const customerId = randomUUID();
    await h.module.api.setContact(customerId, { email: 'never@example.test' });
    const payload = orderPayload(customerId);
    const { value: [row] } = await h.kit.scenario
      .publish(OrderConfirmed, payload)
      .andWaitForStateChange(() => h.rowsOf(payload.order_id), ([found]) => found?.status === 'failed' && found.next_attempt_at === null);
    expect(row).toMatchObject({ attempts: 3, status: 'failed' });
    await new Promise((resolve) => setTimeout(resolve, 300)); // a dozen sweeps
    expect((await h.rowsOf(payload.order_id))[0]).toMatchObject({ attempts: 3, status: 'failed', next_attempt_at: null });
    expect((await h.module.api.listNotifications(customerId, 0)).items[0]).toMatchObject({ status: 'failed', attempts: 3, detail: expect.stringMatching(/ECONNREFUSED|connect/i) });
  });

  it('on stop, finishes the sends under way and records them', async () => {
    const sink = await smtpSink();
    const h = await harness({ smtpUrl: sink.url });
    const customerId = randomUUID();
    await h.module.api.setContact(customerId, { email: 'slow@example.test' });
    sink.delayMs = 300;
    const payload = orderPayload(customerId);
    await h.kit.scenario.publish(OrderConfirmed, payload).andWaitForStateChange(async () => sink.connections, (count) => count > 0);
    await h.module.stop();
    expect(sink.received.filter((mail) => mail.to.includes('slow@example.test'))).toHaveLength(1);
    expect((await h.rowsOf(payload.order_id))[0]).toMatchObject({ status: 'sent', attempts: 1 });
    expect(h.kit.scenario.eventsOf(NotificationSent, (sent) => sent.order_id === payload.order_id)).toHaveLength(1);
  });

  it('still sends the email when inventory cannot name the products, naming them by id', async () => {
    const sink = await smtpSink();
    const h = await harness({ smtpUrl: sink.url, inventoryFailing: true });
    const customerId = randomUUID();
    await h.module.api.setContact(customerId, { email: 'ids@example.test' });
    const payload = orderPayload(customerId);
    await h.kit.scenario.publish(OrderConfirmed, payload).andWaitForEvent(NotificationSent, (sent) => sent.order_id === payload.order_id);
    const mail = await eventually(() => sink.received.find((found) => found.to.includes('ids@example.test'))!);
    expect(mail.raw.replace(/=\r?\n/g, '')).toContain(WIDGET);
  });
});
