import { createECDH, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { assertUsableContact, orderNumber, planNotifications, retryDelayMs } from '../src/domain.ts';
import { renderEmail, renderPush } from '../src/messages.ts';

const ORDER = '1a2b3c4d-0000-4000-8000-000000000000';
const push = () => {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { endpoint: 'https://push.example.test/x', keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') } };
};

describe('planNotifications', () => {
  const all = { email: true, push: true };

  it('plans one pending notification per channel set', () => {
    const subscription = push();
    expect(planNotifications({ email: 'a@example.test', push_subscription: subscription }, all)).toEqual([
      { channel: 'email', status: 'pending', recipient: 'a@example.test', detail: null },
      { channel: 'push', status: 'pending', recipient: subscription, detail: null },
    ]);
  });

  it('plans one skipped notification on channel none without contact or channels', () => {
    for (const contact of [undefined, { email: null, push_subscription: null }]) {
      expect(planNotifications(contact, all)).toEqual([{ channel: 'none', status: 'skipped', recipient: null, detail: 'the customer has no contact settings' }]);
    }
  });

  it('skips a channel this process cannot send on, saying why', () => {
    expect(planNotifications({ email: 'a@example.test', push_subscription: push() }, { email: false, push: true }).map((p) => [p.channel, p.status, p.detail])).toEqual([
      ['email', 'skipped', 'email is not configured on this server (no SMTP_URL)'],
      ['push', 'pending', null],
    ]);
  });
});

describe('retryDelayMs', () => {
  const policy = { maxAttempts: 4, retryBaseMs: 100, retryMaxMs: 250 };
  it('doubles from the base, caps at the maximum, and gives up after the last attempt', () => {
    expect([1, 2, 3, 4, 5].map((attempts) => retryDelayMs(attempts, policy))).toEqual([100, 200, 250, null, null]);
  });
});

describe('assertUsableContact', () => {
  it('accepts a browser-made subscription and no subscription at all', () => {
    expect(() => assertUsableContact({ push_subscription: push() })).not.toThrow();
    expect(() => assertUsableContact({ email: 'a@example.test', push_subscription: null })).not.toThrow();
  });

  it('refuses keys no browser would make, naming the field', () => {
    const offCurve = { ...push(), keys: { ...push().keys, p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64url') } };
    expect(() => assertUsableContact({ push_subscription: offCurve })).toThrow(/body\.push_subscription\.keys\.p256dh/);
    const shortAuth = { ...push(), keys: { ...push().keys, auth: randomBytes(12).toString('base64url') } };
    expect(() => assertUsableContact({ push_subscription: shortAuth })).toThrow(/body\.push_subscription\.keys\.auth/);
  });
});

describe('messages', () => {
  const facts = { items: [{ product_id: 'P1', quantity: 2, unit_price_cents: 500 }, { product_id: 'p2', quantity: 1, unit_price_cents: 123_456 }], total_cents: 124_456 };
  const names = new Map([['p1', 'Blue <Widget>']]);

  it('numbers orders by the first 8 hex digits of their id', () => {
    expect(orderNumber(ORDER)).toBe('#1A2B3C4D');
  });

  it('writes a confirmation with each line, its amount and the total, in text and escaped HTML', () => {
    const email = renderEmail({ kind: 'order_confirmed', order_id: ORDER, facts, productNames: names });
    expect(email.subject).toBe('Your order #1A2B3C4D is confirmed');
    expect(email.text).toContain('2 × Blue <Widget> — $10.00');
    expect(email.text).toContain('1 × p2 — $1,234.56'); // unknown name: the product id stands in
    expect(email.text).toContain('Total: $1,244.56');
    expect(email.html).toContain('<li>2 × Blue &#60;Widget&#62; — $10.00</li>');
  });

  it('says why an order was cancelled and that any payment is refunded', () => {
    const email = renderEmail({ kind: 'order_cancelled', order_id: ORDER, facts: { ...facts, reason: 'wrong size' }, productNames: names });
    expect(email.subject).toBe('Your order #1A2B3C4D was cancelled');
    expect(email.text).toContain('Your order was cancelled.\nReason: wrong size.');
    expect(email.text).toContain('Any payment you made for it is refunded.');
  });

  it('keeps push messages short', () => {
    expect(renderPush({ kind: 'order_shipped', order_id: ORDER, facts })).toEqual({
      title: 'Your order #1A2B3C4D has shipped',
      body: '3 items, $1,244.56.',
      kind: 'order_shipped',
      order_id: ORDER,
    });
    expect(renderPush({ kind: 'order_cancelled', order_id: ORDER, facts: { ...facts, reason: 'insufficient_stock' } }).body).toBe(
      '3 items, $1,244.56. Reason: some items were out of stock. Any payment is refunded.',
    );
  });
});
