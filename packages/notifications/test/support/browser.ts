import { createECDH, randomBytes, type ECDH } from 'node:crypto';
import type { PushSubscription } from '@shop/notifications-contract';

/** What a browser holds for one push subscription: its key pair and auth secret, and what it hands the server. */
export interface BrowserSubscription {
  readonly ecdh: ECDH;
  readonly authSecret: string;
  readonly subscription: PushSubscription;
}

/** Makes keys as `PushManager.subscribe()` does: a P-256 key pair and 16 random auth bytes, base64url. */
export function subscribeBrowser(endpoint: string): BrowserSubscription {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const authSecret = randomBytes(16).toString('base64url');
  return { ecdh, authSecret, subscription: { endpoint, expirationTime: null, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: authSecret } } };
}
