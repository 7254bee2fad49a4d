import { NotificationSent } from '@shop/notifications-contract';
import { BatchWorker, eventContext, runInContext, type CallOut, type Logger, type ModuleDatabase, type UnitOfWork } from '@shop/platform';
import { PermanentSendFailure, type OutboundChannel } from './channels/channel.ts';
import { retryDelayMs, type RetryPolicy } from './domain.ts';
import * as queue from './queue.ts';
import { dropPushSubscription, type StoredNotification } from './repository.ts';

export interface DeliveryOptions {
  /** Tries before a notification stays `failed` for good. */
  maxAttempts?: number;
  /** First retry delay; doubles each try up to `retryMaxMs`. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** How often the sweep looks for what is due (retries, and what a crash left behind). */
  sweepIntervalMs?: number;
  /** Notifications claimed (and sent side by side) per round. */
  batchSize?: number;
  /** How long a claimed notification is left alone; longer than any send can take (timeouts). */
  leaseMs?: number;
}

// 30 s doubling over 8 tries: a mail server may be down for about an hour before we give up.
const DEFAULTS: Required<DeliveryOptions> = {
  maxAttempts: 8,
  retryBaseMs: 30_000,
  retryMaxMs: 60 * 60_000,
  sweepIntervalMs: 2_000,
  batchSize: 10,
  leaseMs: 5 * 60_000,
};

export type Channels = Partial<Record<'email' | 'push', OutboundChannel>>;

/**
 * Sends queued notifications, away from the event handlers: a slow SMTP server never holds
 * up the event bus. Kicked after each commit that queued something, plus a periodic sweep
 * for retries that fall due and for what a crash left behind. Same shape as the platform's
 * outbox dispatcher: one round at a time, a kick during a round asks for another.
 */
export class NotificationSender {
  readonly #db: ModuleDatabase;
  readonly #uow: UnitOfWork;
  readonly #channels: Channels;
  readonly #logger: Logger;
  readonly #callOut: CallOut;
  readonly #options: Required<DeliveryOptions>;
  readonly #worker: BatchWorker;

  constructor(deps: { db: ModuleDatabase; uow: UnitOfWork; channels: Channels; logger: Logger; callOut: CallOut }, options: DeliveryOptions = {}) {
    this.#db = deps.db;
    this.#uow = deps.uow;
    this.#channels = deps.channels;
    this.#logger = deps.logger;
    this.#callOut = deps.callOut;
    this.#options = { ...DEFAULTS, ...withoutUndefined(options) };
    this.#worker = new BatchWorker({
      round: () => this.#sendDue(),
      batchSize: this.#options.batchSize,
      sweepIntervalMs: this.#options.sweepIntervalMs,
      // The database is unreachable: leased rows come back when their lease ends; the sweep retries.
      onError: (error) => this.#logger.error({ err: error }, 'notification send round failed'),
    });
  }

  start(): void {
    this.#worker.start();
  }

  /** Send what is due now (called after every commit that queued a notification). */
  kick(): void {
    this.#worker.kick();
  }

  /** Stops claiming; the sends under way finish and are recorded; then the channels close. */
  async stop(): Promise<void> {
    await this.#worker.stop();
    await Promise.all(Object.values(this.#channels).map((channel) => channel.close()));
  }

  /** Resolves when nothing is being sent right now (tests use it). */
  idle(): Promise<void> {
    return this.#worker.idle();
  }

  async #sendDue(): Promise<number> {
    const claimed = await queue.claimDue(this.#db.kysely, this.#options.batchSize, this.#options.leaseMs);
    // Each send in the trace its notification was queued in (the order event's handling).
    await Promise.all(claimed.map((notification) => runInContext(eventContext({ id: notification.id, traceparent: notification.traceparent ?? undefined }), () => this.#sendOne(notification))));
    return claimed.length;
  }

  async #sendOne(notification: StoredNotification): Promise<void> {
    const channel = notification.channel === 'none' ? undefined : this.#channels[notification.channel];
    try {
      if (!channel) throw new Error(`${notification.channel} is not configured in this process`);
      await this.#callOut(notification.channel === 'email' ? 'smtp' : 'web-push', 'send', () => channel.send(notification));
    } catch (error) {
      return this.#recordFailure(notification, error as Error);
    }
    await this.#uow.run(async (tx) => {
      if (!(await queue.markSent(tx.db, notification.id))) return;
      const { id, customer_id, order_id, channel: sentOn, kind } = notification;
      tx.publish(NotificationSent, { notification_id: id, customer_id, order_id, channel: sentOn, kind });
    });
  }

  async #recordFailure(notification: StoredNotification, error: Error): Promise<void> {
    const attempts = notification.attempts + 1;
    const retryInMs = error instanceof PermanentSendFailure ? null : retryDelayMs(attempts, this.#options satisfies RetryPolicy);
    await this.#uow.run(async (tx) => {
      await queue.markFailed(tx.db, notification.id, error.message, retryInMs);
      // A gone subscription never comes back: forget it, so later events don't queue doomed pushes.
      if (error instanceof PermanentSendFailure && notification.channel === 'push') {
        await dropPushSubscription(tx.db, notification.customer_id, (notification.recipient as { endpoint: string }).endpoint);
      }
    });
    const context = { notification_id: notification.id, channel: notification.channel, attempts, err: error };
    if (retryInMs === null) this.#logger.error(context, 'notification failed for good');
    else this.#logger.warn({ ...context, retry_in_ms: retryInMs }, 'notification send failed; will retry');
  }
}

function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
