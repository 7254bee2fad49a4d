import type https from 'node:https';
import type webpush from 'web-push';
import type { PushSubscription } from '@shop/notifications-contract';
import { renderPush } from '../messages.ts';
import type { StoredNotification } from '../repository.ts';
import { PermanentSendFailure, type OutboundChannel } from './channel.ts';

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
  /** Who runs this sender, for push services to reach: a `mailto:` or `https:` URL. */
  subject: string;
}

export interface PushSettings {
  /** Unset → Web Push is not available. */
  vapid?: VapidKeys;
  /** The HTTPS agent for push services (tests pass one that trusts their own CA). */
  agent?: https.Agent;
}

/** A day: an order update older than that is no longer news. */
const TTL_SECONDS = 86_400;

/** web-push loads on the first use: a process that sends no push does not pay for it at start. */
let library: Promise<typeof webpush> | undefined;
const loadWebPush = () => (library ??= import('web-push').then((module) => module.default));

/** Web Push (RFC 8030/8291/8292): the payload is encrypted for the browser, signed with our VAPID key. */
export class PushChannel implements OutboundChannel {
  readonly #vapid: VapidKeys;
  readonly #agent: https.Agent | undefined;

  constructor(settings: { vapid: VapidKeys; agent?: https.Agent }) {
    this.#vapid = settings.vapid;
    this.#agent = settings.agent;
  }

  async send(notification: StoredNotification): Promise<void> {
    const subscription = notification.recipient as PushSubscription;
    const payload = renderPush({ kind: notification.kind, order_id: notification.order_id, facts: notification.content });
    const webpush = await loadWebPush();
    try {
      await webpush.sendNotification(subscription, JSON.stringify(payload), {
        vapidDetails: this.#vapid,
        TTL: TTL_SECONDS,
        timeout: 30_000,
        ...(this.#agent ? { agent: this.#agent } : {}),
      });
    } catch (error) {
      throw describe(webpush, error);
    }
  }

  async close(): Promise<void> {}
}

/** 404/410: the browser unsubscribed or the subscription expired; it never comes back. */
function describe(webpush: typeof import('web-push'), error: unknown): Error {
  if (error instanceof webpush.WebPushError) {
    const answer = `push service answered ${error.statusCode}${error.body ? `: ${error.body.slice(0, 200)}` : ''}`;
    if (error.statusCode === 404 || error.statusCode === 410) {
      return new PermanentSendFailure(`the push subscription is gone (${answer}); not retried, the customer must subscribe again`);
    }
    return new Error(answer);
  }
  return error instanceof Error ? error : new Error(String(error));
}

export async function generateVapidKeys(): Promise<{ publicKey: string; privateKey: string }> {
  return (await loadWebPush()).generateVAPIDKeys();
}
