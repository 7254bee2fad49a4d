import { Type, type Static } from 'typebox';
import { Uuid } from '@shop/contract-kit';


/**
 * A Web Push subscription as a browser's `PushSubscription.toJSON()` gives it. The endpoint is
 * HTTPS only: the Web Push protocol (RFC 8030) runs over HTTPS, and so does every push service.
 */
export const PushSubscription = Type.Object(
  {
    endpoint: Type.String({ format: 'uri', maxLength: 2_000, pattern: '^https://' }),
    expirationTime: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    keys: Type.Object(
      {
        /** The browser's P-256 public key, base64url (65 bytes uncompressed). */
        p256dh: Type.String({ minLength: 80, maxLength: 100, pattern: '^[A-Za-z0-9_-]+={0,2}$' }),
        /** The 16-byte auth secret, base64url. */
        auth: Type.String({ minLength: 16, maxLength: 30, pattern: '^[A-Za-z0-9_-]+={0,2}$' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type PushSubscription = Static<typeof PushSubscription>;

/** How a customer is reached. Either channel may be absent (null): nothing goes there. */
export const Contact = Type.Object({
  customer_id: Uuid,
  email: Type.Union([Type.String({ format: 'email' }), Type.Null()]),
  push_subscription: Type.Union([PushSubscription, Type.Null()]),
  updated_at: Type.String({ format: 'date-time' }),
}, { $id: 'Contact' });
export type Contact = Static<typeof Contact>;

/** Body of `PUT /api/customers/:customer_id/contact`: replaces the settings (absent = none). */
export const SetContactBody = Type.Object(
  {
    email: Type.Optional(Type.Union([Type.String({ format: 'email', maxLength: 254 }), Type.Null()])),
    push_subscription: Type.Optional(Type.Union([PushSubscription, Type.Null()])),
  },
  { additionalProperties: false },
);
export type SetContactBody = Static<typeof SetContactBody>;

/** `none`: the customer had no contact set; the notification is recorded as `skipped`. */
export const Channel = Type.Union([Type.Literal('email'), Type.Literal('push'), Type.Literal('none')]);
export type Channel = Static<typeof Channel>;

export const NotificationKind = Type.Union([
  Type.Literal('order_confirmed'),
  Type.Literal('order_cancelled'),
  Type.Literal('order_shipped'),
]);
export type NotificationKind = Static<typeof NotificationKind>;

/**
 * `pending`: queued, not tried yet; `sent`: accepted by the SMTP server or push service;
 * `failed`: the last try failed (retried with backoff until the attempts run out);
 * `skipped`: nothing to send to (no contact, or the channel is not configured).
 */
export const NotificationStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('sent'),
  Type.Literal('failed'),
  Type.Literal('skipped'),
]);
export type NotificationStatus = Static<typeof NotificationStatus>;

export const Notification = Type.Object({
  id: Uuid,
  customer_id: Uuid,
  channel: Channel,
  kind: NotificationKind,
  order_id: Uuid,
  status: NotificationStatus,
  attempts: Type.Integer({ minimum: 0 }),
  /** Why it was skipped or last failed; null when sent. */
  detail: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
}, { $id: 'Notification' });
export type Notification = Static<typeof Notification>;
