import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotificationSent } from '@shop/notifications-contract';
import { OrderCancelled, OrderConfirmed } from '@shop/orders-contract';
import { eventually } from '@shop/platform/testing';
import { orderPayload, startNotifications, type NotificationsHarness } from './support/harness.ts';
import { SmtpSink } from './support/smtp-sink.ts';

const smtp = new SmtpSink();
let h: NotificationsHarness;

beforeAll(async () => {
  await smtp.start();
  h = await startNotifications({ smtpUrl: smtp.url });
});
afterAll(async () => {
  await h?.kit.stop();
  await smtp.stop();
});

async function customerWithEmail(): Promise<{ customerId: string; email: string }> {
  const customerId = randomUUID();
  const email = `c-${customerId.slice(0, 8)}@example.test`;
  await h.module.api.setContact(customerId, { email });
  return { customerId, email };
}

const mailsTo = (email: string) => smtp.received.filter((mail) => mail.to.includes(email));

describe('email notifications over SMTP', () => {
  it('mails the customer a readable confirmation once the order is confirmed, and says so with NotificationSent', async () => {
    const { customerId, email } = await customerWithEmail();
    const payload = orderPayload(customerId);
    const { payload: sent } = await h.kit.scenario
      .publish(OrderConfirmed, payload)
      .andWaitForEvent(NotificationSent, (event) => event.order_id === payload.order_id);

    expect(sent).toMatchObject({ customer_id: customerId, channel: 'email', kind: 'order_confirmed' });
    const [mail] = mailsTo(email);
    const number = `#${payload.order_id.replace(/-/g, '').slice(0, 8).toUpperCase()}`;
    expect(mail!.from).toBe('orders@shop.test');
    expect(mail!.raw).toContain(`Subject: Your order ${number} is confirmed`);
    expect(mail!.raw).toContain(`Message-ID: <${sent.notification_id}@shop.test>`);
    // The text part is quoted-printable or plain UTF-8 depending on length; decode soft breaks to read it.
    const text = readable(mail!.raw);
    expect(text).toContain('2 × Blue Widget — $10.00');
    expect(text).toContain('1 × Pocket Gadget — $12.50');
    expect(text).toContain('Total: $22.50');
    expect(mail!.raw).toMatch(/Content-Type: text\/html/);
    expect(await h.rowsOf(payload.order_id)).toMatchObject([{ channel: 'email', status: 'sent', attempts: 1, detail: null }]);
  });

  it('sends exactly one message per event, however often the event is redelivered', async () => {
    const { customerId, email } = await customerWithEmail();
    const payload = orderPayload(customerId);
    const { result: event } = await h.kit.scenario
      .publish(OrderConfirmed, payload)
      .andWaitForEvent(NotificationSent, (sent) => sent.order_id === payload.order_id);
    await h.kit.scenario.redeliver(event);
    await h.kit.scenario.redeliver(event);
    await new Promise((resolve) => setTimeout(resolve, 200));

    expect(mailsTo(email)).toHaveLength(1);
    expect(await h.rowsOf(payload.order_id)).toHaveLength(1);
    expect(h.kit.scenario.eventsOf(NotificationSent, (sent) => sent.order_id === payload.order_id)).toHaveLength(1);
  });

  it('tells a cancelled order’s customer why, and that any payment is refunded', async () => {
    const { customerId, email } = await customerWithEmail();
    const payload = { ...orderPayload(customerId), reason: 'insufficient_stock', previous_status: 'pending' as const };
    await h.kit.scenario.publish(OrderCancelled, payload).andWaitForEvent(NotificationSent, (sent) => sent.order_id === payload.order_id);

    const text = readable(mailsTo(email)[0]!.raw);
    expect(text).toContain('was cancelled');
    expect(text).toContain('some items were out of stock');
    expect(text).toContain('Any payment you made for it is refunded.');
  });

  it('keeps retrying while the SMTP server is down, and sends once it is back', async () => {
    const { customerId, email } = await customerWithEmail();
    const payload = orderPayload(customerId);
    await smtp.stop();
    try {
      await h.kit.scenario.publish(OrderConfirmed, payload).andWaitForStateChange(
        () => h.rowsOf(payload.order_id),
        ([row]) => row?.status === 'failed' && row.attempts >= 3,
      );
      const [failed] = await h.rowsOf(payload.order_id);
      expect(failed!.detail).toMatch(/ECONNREFUSED|connect/i);
      expect(failed!.next_attempt_at).not.toBeNull();
    } finally {
      await smtp.start();
    }
    const [sent] = await eventually(async () => {
      const rows = await h.rowsOf(payload.order_id);
      expect(rows[0]?.status).toBe('sent');
      return rows;
    });
    expect(sent).toMatchObject({ detail: null, next_attempt_at: null });
    expect(sent!.attempts).toBeGreaterThanOrEqual(4);
    expect(mailsTo(email)).toHaveLength(1);
  });

  it.each([451, 554])('retries while the SMTP server refuses mail with %i, then sends', async (code) => {
    const { customerId, email } = await customerWithEmail();
    const payload = orderPayload(customerId);
    smtp.refuseWith = code;
    try {
      await h.kit.scenario.publish(OrderConfirmed, payload).andWaitForStateChange(
        () => h.rowsOf(payload.order_id),
        ([row]) => row?.status === 'failed' && row.attempts >= 2,
      );
      expect((await h.rowsOf(payload.order_id))[0]!.detail).toContain(String(code));
    } finally {
      smtp.refuseWith = undefined;
    }
    await eventually(async () => expect((await h.rowsOf(payload.order_id))[0]?.status).toBe('sent'));
    expect(mailsTo(email)).toHaveLength(1);
    // NotificationSent leaves through the outbox, a moment after the row turns sent.
    await eventually(() => expect(h.kit.scenario.eventsOf(NotificationSent, (sent) => sent.order_id === payload.order_id)).toHaveLength(1));
  });
});

/** The message's text with quoted-printable soft line breaks and escapes undone. */
function readable(raw: string): string {
  return Buffer.from(
    raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16))),
    'latin1',
  ).toString('utf8');
}
