import type { StoredNotification } from '../repository.ts';

/** One way of reaching a customer (email, Web Push), as the sender uses it. */
export interface OutboundChannel {
  /** Resolves once the SMTP server or push service accepted the message; throws otherwise. */
  send(notification: StoredNotification): Promise<void>;
  /** Releases connections; sends under way are finished first by the sender. */
  close(): Promise<void>;
}

/**
 * A failure no retry can fix (the push subscription is gone): the notification fails for good
 * at once. Any other error is taken as passing (a server down, a full queue) and retried.
 */
export class PermanentSendFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentSendFailure';
  }
}
