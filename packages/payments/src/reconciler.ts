import type { Logger } from 'pino';
import type { ModuleDatabase } from '@shop/platform';
import * as repo from './repository.ts';
import type { Settlement } from './settlement.ts';

export interface ReconcilerOptions {
  /** How often to look; default 30 s. */
  readonly intervalMs?: number;
  /** How long work may stay unfinished before it counts as abandoned; default 5 s. */
  readonly quietMs?: number;
}

/**
 * Providers keep an idempotency key about a day (Stripe: 24 h). Asking again with an older
 * key could charge anew, so such a payment is left to an operator instead.
 */
const REPLAY_WINDOW_MS = 23 * 60 * 60 * 1000;
const BATCH = 100;

/**
 * Finishes what a crash or an outage left half done: charges still pending (the provider was
 * asked; the answer never got recorded) and refunds requested but not made. It asks the
 * provider again with the payment's stored key, which is always safe. Runs at start and then
 * every `intervalMs`, one round at a time.
 */
export class Reconciler {
  readonly #db: ModuleDatabase;
  readonly #settlement: Settlement;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #quietMs: number;
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #stopped = true;
  #stopping = false;

  constructor(deps: { db: ModuleDatabase; settlement: Settlement; logger: Logger }, options: ReconcilerOptions = {}) {
    this.#db = deps.db;
    this.#settlement = deps.settlement;
    this.#logger = deps.logger;
    this.#intervalMs = options.intervalMs ?? 30_000;
    this.#quietMs = options.quietMs ?? 5_000;
  }

  start(): void {
    this.#stopped = false;
    this.#stopping = false;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopping = true;
    clearTimeout(this.#timer);
    await this.#round;
  }

  /** One pass over the abandoned work; resolves with how many payments it finished. */
  async reconcileOnce(): Promise<number> {
    let finished = 0;
    const stranded = await repo.strandedCharges(this.#db.kysely, REPLAY_WINDOW_MS);
    if (stranded.length > 0) this.#logger.error({ payment_ids: stranded }, 'payments pending beyond the provider idempotency window; settle them by hand');
    for (const payment of await repo.findUnsettled(this.#db.kysely, this.#quietMs, REPLAY_WINDOW_MS, BATCH)) {
      // Stopping: leave the rest for the next start rather than hold up shutdown.
      if (this.#stopping) break;
      try {
        if (payment.status === 'pending') await this.#settlement.charge(payment);
        else await this.#settlement.refund(payment);
        finished++;
      } catch (error) {
        // To the back of the queue: rows that keep failing must not starve newer work.
        await repo.deferUnsettled(this.#db.kysely, payment.id).catch(() => undefined);
        this.#logger.warn({ err: error, payment_id: payment.id, status: payment.status }, 'reconciling a payment failed; will try again');
      }
    }
    if (finished > 0) this.#logger.info({ finished }, 'reconciled payments');
    return finished;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#round = this.reconcileOnce()
        .then(() => undefined)
        .catch((error) => this.#logger.error({ err: error }, 'reconciler round failed'))
        .finally(() => this.#schedule(this.#intervalMs));
    }, delayMs);
    this.#timer.unref();
  }
}
