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

/**
 * A published event type: its name, version, and the JSON schema of its payload.
 *
 * Versions of one type only ever add fields: version N's payload is version N-1's plus more.
 * So a spec reads an envelope of its own version or of any later one (the extra fields are
 * simply not declared), and cannot read an earlier one: the fields added since are missing.
 * Subscriptions select by type only, so a consumer sees every version still in flight (an
 * outbox row written before an upgrade, a stream not yet drained, a publisher not yet
 * redeployed). A consumer that needs the newer fields asks `canRead` first and handles older
 * envelopes through the older spec; one that needs none of them keeps declaring the older spec.
 */
export interface EventSpec<S extends TSchema = TSchema> {
  readonly type: string;
  readonly version: number;
  readonly schema: S;
  /**
   * Narrows an envelope of this type to its payload's static type. Throws if the type differs
   * or the envelope's version is lower than this spec's (its payload lacks fields this spec
   * declares): never a payload typed as having fields it does not have.
   */
  readonly payloadOf: (event: EventEnvelope) => Static<S>;
  /** Whether `payloadOf` reads this envelope: same type, and at least this spec's version. */
  readonly canRead: (event: EventEnvelope) => boolean;
}

export function defineEvent<S extends TSchema>(type: string, version: number, schema: S): EventSpec<S> {
  if (!Number.isInteger(version) || version < 1) throw new Error(`${type}: an event version is an integer from 1, got ${version}`);
  return {
    type,
    version,
    schema,
    payloadOf: (event) => {
      if (event.type !== type) throw new Error(`expected a ${type} event, got ${event.type}`);
      if (!(event.version >= version)) {
        throw new Error(
          `${type} version ${event.version} (event ${event.id}) cannot be read as version ${version}: ` +
            `it lacks the fields added since; check canRead and read it with the version ${event.version} spec`,
        );
      }
      return event.payload as Static<S>;
    },
    canRead: (event) => event.type === type && event.version >= version,
  };
}
