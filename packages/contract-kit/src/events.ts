import type { TSchema, Static } from 'typebox';

/**
 * How every event travels: in process, through the outbox, and over NATS alike.
 * `id` is unique per event and is the deduplication key everywhere (inbox, Nats-Msg-Id).
 */
export interface EventEnvelope<Payload = unknown> {
  readonly id: string;
  readonly type: string;
  readonly version: number;
  /** The module that published it. */
  readonly source: string;
  readonly occurred_at: string;
  readonly payload: Payload;
  /** W3C trace context of the change that caused it, when there was one. */
  readonly traceparent?: string;
}

/** A published event type: its name, version, and the JSON schema of its payload. */
export interface EventSpec<S extends TSchema = TSchema> {
  readonly type: string;
  readonly version: number;
  readonly schema: S;
  /** Narrows an envelope of this type to its payload's static type. */
  readonly payloadOf: (event: EventEnvelope) => Static<S>;
}

export function defineEvent<S extends TSchema>(type: string, version: number, schema: S): EventSpec<S> {
  return {
    type,
    version,
    schema,
    payloadOf: (event) => {
      if (event.type !== type) throw new Error(`expected a ${type} event, got ${event.type}`);
      return event.payload as Static<S>;
    },
  };
}
