import { randomUUID } from 'node:crypto';
import type { Static, TSchema } from 'typebox';
import { sql, type Transaction } from 'kysely';
import type { EventEnvelope, EventSpec } from '@shop/contract-kit';
import type { ModuleDatabase } from '../db/pool.ts';
import { publishedTraceparent } from '../telemetry/tracing.ts';
import { lockEntities } from './entity-lock.ts';

/** A module's transaction: its SQL, and the events it publishes, committed together. */
export interface Tx {
  readonly db: Transaction<any>;
  /**
   * Writes an event to the outbox with this transaction. It carries the trace of the request or
   * event being handled; a handler of several events at once names the event it reacts to
   * (`cause`), so each reaction stays in its own cause's trace.
   */
  publish<S extends TSchema>(spec: EventSpec<S>, payload: Static<S>, cause?: EventEnvelope): void;
  /**
   * Waits until no other transaction of this module holds any of these entities (`entity` names
   * their kind, e.g. `order`), and holds them until this one ends: call it before reading the
   * state a decision rests on, when another transaction (another replica) may be changing it.
   * See `lockEntities`.
   */
  lock(entity: string, ids: readonly string[]): Promise<void>;
  /** Runs `work` once this transaction has committed (never if it rolls back): calls to the outside world. */
  afterCommit(work: () => void): void;
}

/** Which entity an event is about, for consumers whose decisions must not race (`lock`). */
export interface SerializeOn {
  readonly entity: string;
  readonly idOf: (event: EventEnvelope) => string;
}

/** What `handleEachOnce` reports for each event it was given, in the same order. */
export type HandleOutcome = PromiseSettledResult<void>;

const HANDLED: HandleOutcome = { status: 'fulfilled', value: undefined };

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
    let committed: Array<() => void> = [];
    const result = await this.#db.kysely.transaction().execute(async (trx) => {
      const { tx, pending, afterCommit } = this.#open(trx);
      const value = await work(tx);
      published = pending.length;
      if (published > 0) await this.#writeOutbox(trx, pending);
      committed = afterCommit;
      return value;
    });
    if (published > 0) this.#afterCommit();
    for (const work of committed) work();
    return result;
  }

  /**
   * Runs a consumer's effect at most once per event: the inbox row and the effect commit
   * together, so a redelivered event (retry, crash, broker redelivery) is skipped.
   * Returns false when the event had already been handled.
   */
  async handleOnce(consumer: string, event: EventEnvelope, effect: (tx: Tx) => Promise<void>): Promise<boolean> {
    return this.run(async (tx) => {
      if ((await this.#firstTimes(tx.db, consumer, [event])).length === 0) return false;
      await effect(tx);
      return true;
    });
  }

  /**
   * `handleOnce` for several events in one transaction: one inbox write and one commit for the
   * lot, and the effect sees them all at once (`fresh`: those not handled before, in the order
   * given), so it can do its SQL for all of them together. Under load the in-process bus hands a
   * consumer the dispatcher's whole claimed batch, and this is what keeps the statements per event
   * low. If the transaction fails, each event is tried again alone, so one bad event (or a
   * deadlock with another instance's batch) never holds back the others.
   * Never rejects for an event's failure: resolves with one outcome per event.
   */
  async handleEachOnce(
    consumer: string,
    events: readonly EventEnvelope[],
    effect: (tx: Tx, fresh: readonly EventEnvelope[]) => Promise<void>,
    serializeOn?: SerializeOn,
  ): Promise<HandleOutcome[]> {
    try {
      await this.run(async (tx) => {
        // Before the inbox: the entities first, then everything else, in every transaction.
        if (serializeOn) await tx.lock(serializeOn.entity, events.map(serializeOn.idOf));
        const fresh = await this.#firstTimes(tx.db, consumer, events);
        if (fresh.length > 0) await effect(tx, fresh);
      });
      return events.map(() => HANDLED);
    } catch (error) {
      if (events.length === 1) return [{ status: 'rejected', reason: error }];
      const outcomes: HandleOutcome[] = [];
      for (const event of events) outcomes.push(...(await this.handleEachOnce(consumer, [event], effect, serializeOn)));
      return outcomes;
    }
  }

  /** Writes the events' inbox rows; returns those that had none (each id once, in the order given). */
  async #firstTimes(trx: Transaction<any>, consumer: string, events: readonly EventEnvelope[]): Promise<EventEnvelope[]> {
    const { rows } = await sql<{ event_id: string }>`
      INSERT INTO ${sql.table(`${this.#db.schema}.inbox`)} (consumer, event_id, event_type)
      SELECT ${consumer}, event_id, event_type
      FROM unnest(${events.map((event) => event.id)}::uuid[], ${events.map((event) => event.type)}::text[]) AS e(event_id, event_type)
      ON CONFLICT DO NOTHING
      RETURNING event_id`.execute(trx);
    const firstTime = new Set(rows.map((row) => row.event_id));
    return events.filter((event) => firstTime.delete(event.id.toLowerCase()));
  }

  #open(trx: Transaction<any>): { tx: Tx; pending: PendingEvent[]; afterCommit: Array<() => void> } {
    const pending: PendingEvent[] = [];
    const afterCommit: Array<() => void> = [];
    const tx: Tx = {
      db: trx,
      // The event carries the trace of what caused it: the request (or event) being handled.
      publish: (spec, payload, cause) =>
        pending.push({
          id: randomUUID(),
          type: spec.type,
          version: spec.version,
          payload,
          traceparent: publishedTraceparent(spec.type, this.#db.schema, cause),
        }),
      lock: (entity, ids) => lockEntities(trx, `${this.#db.schema}:${entity}`, ids),
      afterCommit: (work) => afterCommit.push(work),
    };
    return { tx, pending, afterCommit };
  }

  /** One statement for all the events, whatever their number (every order and reaction pays it). */
  async #writeOutbox(trx: Transaction<any>, events: PendingEvent[]): Promise<void> {
    await sql`
      INSERT INTO ${sql.table(this.#table)} (id, event_type, event_version, payload, traceparent)
      SELECT * FROM unnest(
        ${events.map((event) => event.id)}::uuid[], ${events.map((event) => event.type)}::text[], ${events.map((event) => event.version)}::int[],
        ${events.map((event) => JSON.stringify(event.payload))}::jsonb[], ${events.map((event) => event.traceparent)}::text[])`.execute(trx);
  }
}

interface PendingEvent {
  id: string;
  type: string;
  version: number;
  payload: unknown;
  traceparent: string | null;
}
