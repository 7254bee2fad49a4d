import { AckPolicy, DeliverPolicy, DiscardPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { ConsumerConfig, JetStreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';

// What the NATS bus provisions on the server: the stream of all events, one durable consumer per consumer.

export interface StreamSettings {
  readonly stream: string;
  readonly subjectPrefix: string;
  readonly duplicateWindowMs: number;
  readonly retentionMs: number;
}

/** How a durable consumer is configured and how its failed deliveries are retried. */
export interface ConsumerSettings {
  readonly stream: string;
  readonly ackWaitMs: number;
  /** -1: redeliver until handled (a stuck event is logged at every try, never dropped silently). */
  readonly maxDeliver: number;
  readonly maxAckPending: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
}

/** Creates the stream holding every event, or checks that an existing one holds our subjects. */
export async function ensureStream(jsm: JetStreamManager, options: StreamSettings): Promise<void> {
  const { stream, subjectPrefix } = options;
  const subjects = `${subjectPrefix}.>`;
  let info = await jsm.streams.info(stream).catch(streamNotFoundAsUndefined);
  if (!info) {
    try {
      await jsm.streams.add({
        name: stream,
        subjects: [subjects],
        // File storage: events survive a NATS restart. Limits retention: every consumer, even one
        // created later or down for a while, reads the whole retained history (its inbox skips repeats).
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        max_age: nanos(options.retentionMs),
        duplicate_window: nanos(options.duplicateWindowMs),
      });
      return;
    } catch (error) {
      // Another process may have created it a moment ago.
      info = await jsm.streams.info(stream).catch(streamNotFoundAsUndefined);
      if (!info) throw error;
    }
  }
  // An existing stream is left as operators tuned it, as long as it carries our subjects.
  if (!info.config.subjects?.includes(subjects)) {
    throw new Error(`NATS stream ${stream} exists but does not hold subjects ${subjects} (it has ${info.config.subjects?.join(', ')})`);
  }
}

/** Creates the durable pull consumer, or brings an existing one's settings up to date. */
export async function ensureDurableConsumer(jsm: JetStreamManager, name: string, filter: string[], settings: ConsumerSettings): Promise<void> {
  // One filter subject works on every server; several need NATS 2.10 (the bus never asks older ones for several).
  const filters: Partial<ConsumerConfig> =
    filter.length === 1 ? { filter_subject: filter[0], filter_subjects: undefined } : { filter_subjects: filter, filter_subject: undefined };
  const tunable = { ack_wait: nanos(settings.ackWaitMs), max_deliver: settings.maxDeliver, max_ack_pending: settings.maxAckPending, ...filters };
  let existing = await consumerInfo(jsm, settings.stream, name);
  if (!existing) {
    try {
      await jsm.consumers.add(settings.stream, { durable_name: name, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ...tunable });
      return;
    } catch (error) {
      // Another process hosting the same consumer may have created it a moment ago.
      existing = await consumerInfo(jsm, settings.stream, name);
      if (!existing) throw error;
    }
  }
  const current = existing.config;
  const same =
    current.ack_wait === tunable.ack_wait &&
    current.max_deliver === tunable.max_deliver &&
    current.max_ack_pending === tunable.max_ack_pending &&
    (current.filter_subject ?? '') === (filters.filter_subject ?? '') &&
    [...(current.filter_subjects ?? [])].sort().join() === [...(filters.filter_subjects ?? [])].sort().join();
  if (!same) await jsm.consumers.update(settings.stream, name, tunable);
}

async function consumerInfo(jsm: JetStreamManager, stream: string, name: string) {
  try {
    return await jsm.consumers.info(stream, name);
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound) return undefined;
    throw error;
  }
}

export function supportsMultipleFilters(version: string | undefined): boolean {
  const [major = 0, minor = 0] = (version ?? '').split('.').map(Number);
  return major > 2 || (major === 2 && minor >= 10);
}

function streamNotFoundAsUndefined(error: unknown): undefined {
  if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return undefined;
  throw error;
}
