import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { ModuleDatabase } from '../db/pool.ts';

/**
 * How long a module keeps its delivered outbox rows and its inbox rows, and how often it prunes.
 *
 * The rule for the inbox. An inbox row is what makes a second delivery of an event change
 * nothing, so it may go only once no copy of that event can reach the consumer again. A copy
 * can come back:
 *
 * - from the producer's outbox while its row is `pending` (a crash between handling and the
 *   `delivered` mark, a batch retried because another consumer failed): retries end within
 *   `OUTBOX_MAX_ATTEMPTS` backoffs of at most 5 minutes each (under an hour by default), then the
 *   row is `delivered` or `failed`. The dispatcher never sends a `delivered` row again; while it
 *   is kept (`outboxRetentionMs`) an operator may still put it back to `pending` to replay it;
 * - from NATS JetStream: the stream keeps each event for its `max_age` (7 days as the app
 *   creates it) after it was stored, which is before any consumer handled it, and a durable
 *   consumer may receive it again until then (an ack lost, a consumer recreated, which reads
 *   the whole stream). The 2-minute duplicate window only drops republished copies.
 *
 * So `inboxRetentionMs` must exceed both the outbox's retention and the stream's age limit, with
 * a margin for the pending retries: the configuration (packages/app/src/config.ts) refuses an
 * inbox retention that is not at least a day longer than each. Measured from `handled_at`,
 * which is never earlier than the event's publication.
 *
 * The exception no clock can cover: a `failed` row is never pruned and an admin may retry it at
 * any time. Consumers that handled it before it failed (in one process, those that succeeded
 * when another consumer failed) lose their inbox row after `inboxRetentionMs` and would handle
 * it again; retry failed events within that time (docs/operating.md).
 */
export interface RetentionOptions {
  /** Delivered outbox rows older than this (since `delivered_at`) are deleted. Pending and failed rows never are. */
  readonly outboxRetentionMs: number;
  /** Inbox rows older than this (since `handled_at`) are deleted; see the rule above. */
  readonly inboxRetentionMs: number;
  /** Time between two prunings (each runs until nothing old is left). */
  readonly intervalMs: number;
  /** Rows deleted per statement: each batch is its own short transaction. Default 1,000. */
  readonly batchSize?: number;
  /** The first pruning after `start`: a little later, so it stays out of the start's way. Default 10 s. */
  readonly firstDelayMs?: number;
  /** A pause between two batches so a long catch-up leaves room for the hot path. Default 20 ms. */
  readonly pauseMs?: number;
}

export const RETENTION_DEFAULTS = {
  outboxRetentionMs: 7 * 86_400_000,
  inboxRetentionMs: 14 * 86_400_000,
  intervalMs: 15 * 60_000,
} as const satisfies RetentionOptions;

export interface PruneResult {
  readonly outbox: number;
  readonly inbox: number;
}

/**
 * Deletes a module's old delivered outbox rows and old inbox rows, a batch at a time, so the
 * tables the hot paths write and read hold a bounded window instead of everything ever sent.
 *
 * Safe with any number of replicas: every batch picks its rows `FOR UPDATE SKIP LOCKED`, so two
 * pruners of the same module (two replicas) share the work instead of waiting on each other, and
 * the dispatcher's claim (`pending` rows) and a pruner's batch (`delivered` rows) never touch the
 * same row. Each batch is a single statement found through an index on the age
 * (`platform-0003_retention`), whatever the table's size.
 */
export class MessagingRetention {
  readonly #db: ModuleDatabase;
  readonly #module: string;
  readonly #logger: Logger;
  readonly #options: Required<RetentionOptions>;
  readonly #outbox: ReturnType<typeof sql.table>;
  readonly #inbox: ReturnType<typeof sql.table>;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = false;

  constructor(deps: { db: ModuleDatabase; module: string; logger: Logger }, options: RetentionOptions) {
    this.#db = deps.db;
    this.#module = deps.module;
    this.#logger = deps.logger;
    this.#options = { batchSize: 1_000, firstDelayMs: 10_000, pauseMs: 20, ...options };
    this.#outbox = sql.table(`${deps.db.schema}.outbox`);
    this.#inbox = sql.table(`${deps.db.schema}.inbox`);
  }

  start(): void {
    this.#stopped = false;
    const next = (delayMs: number) => {
      this.#timer = setTimeout(() => {
        this.#running = this.prune()
          .catch((error: unknown) => this.#logger.warn({ err: error, module: this.#module }, 'pruning the outbox and inbox failed; the next round tries again'))
          .finally(() => {
            this.#running = undefined;
            if (!this.#stopped) next(this.#options.intervalMs);
          });
      }, delayMs);
      this.#timer.unref();
    };
    next(this.#options.firstDelayMs);
  }

  /** Stops the timer and waits for the batch under way (a pruning in progress ends after it). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** One pruning: batches until nothing older than the retentions is left (or `stop`). */
  async prune(): Promise<PruneResult> {
    const started = performance.now();
    const outbox = await this.#drain(() => this.#pruneOutboxBatch());
    const inbox = await this.#drain(() => this.#pruneInboxBatch());
    if (outbox + inbox > 0) {
      this.#logger.info({ module: this.#module, outbox_rows: outbox, inbox_rows: inbox, ms: Math.round(performance.now() - started) }, 'pruned old outbox and inbox rows');
    }
    return { outbox, inbox };
  }

  async #drain(batch: () => Promise<number>): Promise<number> {
    let total = 0;
    // `stop` ends a long catch-up between batches; the next start resumes it.
    while (!this.#stopped) {
      const deleted = await batch();
      total += deleted;
      // A short batch means nothing old is left that another pruner is not already deleting.
      if (deleted < this.#options.batchSize) break;
      await new Promise((resolve) => setTimeout(resolve, this.#options.pauseMs));
    }
    return total;
  }

  async #pruneOutboxBatch(): Promise<number> {
    const result = await sql`
      DELETE FROM ${this.#outbox} WHERE seq IN (
        SELECT seq FROM ${this.#outbox}
        WHERE status = 'delivered' AND delivered_at < now() - make_interval(secs => ${this.#options.outboxRetentionMs / 1000})
        ORDER BY delivered_at
        LIMIT ${this.#options.batchSize}
        FOR UPDATE SKIP LOCKED)`.execute(this.#db.kysely);
    return Number(result.numAffectedRows ?? 0);
  }

  async #pruneInboxBatch(): Promise<number> {
    const result = await sql`
      DELETE FROM ${this.#inbox} WHERE (consumer, event_id) IN (
        SELECT consumer, event_id FROM ${this.#inbox}
        WHERE handled_at < now() - make_interval(secs => ${this.#options.inboxRetentionMs / 1000})
        ORDER BY handled_at
        LIMIT ${this.#options.batchSize}
        FOR UPDATE SKIP LOCKED)`.execute(this.#db.kysely);
    return Number(result.numAffectedRows ?? 0);
  }
}
