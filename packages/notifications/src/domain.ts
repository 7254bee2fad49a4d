import { ECDH } from 'node:crypto';
import type { Channel, NotificationKind, NotificationStatus, PushSubscription, SetContactBody } from '@shop/notifications-contract';
import { invalidInput } from '@shop/platform';

/** Pure notification rules, free of I/O. */

/** The order facts a message is written from, kept on the notification row. */
export interface OrderFacts {
  items: { product_id: string; quantity: number; unit_price_cents: number }[];
  total_cents: number;
  /** Cancellations only: why. */
  reason?: string;
}

/** Where a notification goes: an email address, or a browser's push subscription. */
export type Recipient = string | PushSubscription;

/** The channels this process can actually send on (SMTP configured, VAPID keys present). */
export interface ChannelAvailability {
  email: boolean;
  push: boolean;
}

export interface PlannedNotification {
  channel: Channel;
  status: Extract<NotificationStatus, 'pending' | 'skipped'>;
  recipient: Recipient | null;
  detail: string | null;
}

const UNAVAILABLE: Record<'email' | 'push', string> = {
  email: 'email is not configured on this server (no SMTP_URL)',
  push: 'Web Push is not configured on this server (no VAPID keys)',
};

/**
 * One notification per channel the customer set; none set → one `skipped` row on channel
 * `none`, so the customer's history still shows the event. A channel set but not available
 * here is recorded `skipped` with the reason, never silently dropped.
 */
export function planNotifications(
  contact: { email: string | null; push_subscription: PushSubscription | null } | undefined,
  available: ChannelAvailability,
): PlannedNotification[] {
  const planned: PlannedNotification[] = [];
  const targets: [channel: 'email' | 'push', recipient: Recipient | null][] = [
    ['email', contact?.email ?? null],
    ['push', contact?.push_subscription ?? null],
  ];
  for (const [channel, recipient] of targets) {
    if (recipient === null) continue;
    planned.push(
      available[channel]
        ? { channel, status: 'pending', recipient, detail: null }
        : { channel, status: 'skipped', recipient, detail: UNAVAILABLE[channel] },
    );
  }
  if (planned.length === 0) planned.push({ channel: 'none', status: 'skipped', recipient: null, detail: 'the customer has no contact settings' });
  return planned;
}

/** `order_confirmed` etc. from the order event's type. */
export const KIND_OF_EVENT: Record<string, NotificationKind> = {
  OrderConfirmed: 'order_confirmed',
  OrderCancelled: 'order_cancelled',
  OrderShipped: 'order_shipped',
};

/**
 * Checks what the schema cannot: the push keys must be usable, or every send would fail.
 * p256dh is an uncompressed P-256 point (65 bytes), auth a 16-byte secret.
 */
export function assertUsableContact(body: SetContactBody): void {
  const keys = body.push_subscription?.keys;
  if (!keys) return;
  const field = 'body.push_subscription.keys';
  const publicKey = Buffer.from(keys.p256dh, 'base64url');
  try {
    if (publicKey.length !== 65 || publicKey[0] !== 0x04) throw new Error('not an uncompressed point');
    ECDH.convertKey(publicKey, 'prime256v1');
  } catch {
    throw invalidInput(`${field}.p256dh`, 'must be an uncompressed P-256 public key (65 bytes, base64url)');
  }
  if (Buffer.from(keys.auth, 'base64url').length !== 16) throw invalidInput(`${field}.auth`, 'must be a 16-byte secret, base64url');
}

/** Retry policy of the sender: exponential backoff, then give up. */
export interface RetryPolicy {
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

/** After a failed try number `attempts` (1-based): wait this long, or null to give up for good. */
export function retryDelayMs(attempts: number, policy: RetryPolicy): number | null {
  if (attempts >= policy.maxAttempts) return null;
  return Math.min(policy.retryBaseMs * 2 ** (attempts - 1), policy.retryMaxMs);
}

/** What a customer reads as the order's number: `#` and the id's first 8 hex digits. */
export function orderNumber(orderId: string): string {
  return `#${orderId.replace(/-/g, '').slice(0, 8).toUpperCase()}`;
}
