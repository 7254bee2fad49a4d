import { randomUUID } from 'node:crypto';
import type { Static, TSchema } from 'typebox';
import { sql, type Transaction } from 'kysely';
import type { EventEnvelope, EventSpec } from '@shop/contract-kit';
import type { ModuleDatabase } from '../db/pool.ts';
import { propagationHeaders } from '../remote/request-context.ts';

/** A module's transaction: its SQL, and the events it publishes, committed together. */
export interface Tx {
  readonly db: Transaction<any>;
  publish<S extends TSchema>(spec: EventSpec<S>, payload: Static<S>): void;
}

/**
 * Runs a module's work in one transaction and writes the events it publishes into the
 * module's outbox in that same transaction: a committed change always has its events, and an
 * event never exists for a change that rolled back. After commit, the dispatcher is woken so
 * delivery happens at once, not at the next sweep.
 */
export class UnitOfWork {
  readonly #db: ModuleDatabase;
  readonly #afterCommit: () => void;
  readonly #table: string;

  constructor(db: ModuleDatabase, afterCommit: () => void) {
    this.#db = db;
    this.#afterCommit = afterCommit;
    this.#table = `${db.schema}.outbox`;
  }

  async run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    let published = 0;
    const result = await this.#db.kysely.transaction().execute(async (trx) => {
      const { tx, pending } = this.#open(trx);
      const value = await work(tx);
      published = pending.length;
      if (published > 0) await this.#writeOutbox(trx, pending);
      return value;
    });
    if (published > 0) this.#afterCommit();
    return result;
  }

  /**
   * Runs a consumer's effect at most once per event: the inbox row and the effect commit
   * together, so a redelivered event (retry, crash, broker redelivery) is skipped.
   * Returns false when the event had already been handled.
   */
  async handleOnce(consumer: string, event: EventEnvelope, effect: (tx: Tx) => Promise<void>): Promise<boolean> {
    return this.run(async (tx) => {
      const inserted = await sql`
        INSERT INTO ${sql.table(`${this.#db.schema}.inbox`)} (consumer, event_id, event_type)
        VALUES (${consumer}, ${event.id}, ${event.type})
        ON CONFLICT DO NOTHING`.execute(tx.db);
      if (Number(inserted.numAffectedRows ?? 0) === 0) return false;
      await effect(tx);
      return true;
    });
  }

  #open(trx: Transaction<any>): { tx: Tx; pending: PendingEvent[] } {
    const pending: PendingEvent[] = [];
    const tx: Tx = {
      db: trx,
      // The event carries the trace of the request (or event) that caused it.
      publish: (spec, payload) => pending.push({ id: randomUUID(), type: spec.type, version: spec.version, payload, traceparent: propagationHeaders().traceparent ?? null }),
    };
    return { tx, pending };
  }

  async #writeOutbox(trx: Transaction<any>, events: PendingEvent[]): Promise<void> {
    await trx
      .insertInto(this.#table)
      .values(
        events.map((event) => ({
          id: event.id,
          event_type: event.type,
          event_version: event.version,
          payload: JSON.stringify(event.payload),
          traceparent: event.traceparent,
        })),
      )
      .execute();
  }
}

interface PendingEvent {
  id: string;
  type: string;
  version: number;
  payload: unknown;
  traceparent: string | null;
}
