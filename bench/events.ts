import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { Type } from 'typebox';
import { defineEvent, type EventEnvelope } from '@shop/contract-kit';
import { Database, InProcessBus, OutboxDispatcher, Telemetry, UnitOfWork, createLogger, type EventBus } from '@shop/platform';
import { NatsBus } from '@shop/distribution/nats';
import { deleteNatsStream, log, round, sleep, summary, type BenchEnv } from './lib.ts';

/**
 * events: the platform's outbox → bus → inbox path, with a module schema of the benchmark's
 * own (bench/events-schema). Latency: from the producer's commit (its unit of work resolving)
 * to the consumer's effect committed (handleOnce resolving), one event at a time; in process
 * (InProcessBus) and over NATS JetStream (NatsBus, a stream of this run's own). Relay
 * throughput: rows already in the outbox, delivered by one dispatcher to a consumer that only
 * counts them.
 */
export interface EventResults {
  in_process_ms: { p50: number; p99: number; n: number };
  nats_ms: { p50: number; p99: number; n: number } | { skipped: string };
  outbox_relay_events_per_s: number;
  outbox_relay_nats_events_per_s: number | { skipped: string };
}

const Ping = defineEvent('BenchPing', 1, Type.Object({ n: Type.Integer() }));
const MIGRATIONS = { schema: 'benchev', directory: fileURLToPath(new URL('./events-schema/', import.meta.url)) };

export async function runEvents(env: BenchEnv): Promise<EventResults> {
  const { quick } = env.settings;
  const db = await env.database();
  const database = new Database({ url: db.url, connectionsPerModule: 10, moduleRoles: 'off' });
  env.defer(() => database.close());
  await database.migrate([MIGRATIONS]);
  const count = quick ? 300 : 2_000;
  const relayCount = quick ? 10_000 : 50_000;

  log(`events: ${count} events in process`);
  const inProcess = await latency(database, new InProcessBus(), count);
  log(`events: relay of ${relayCount} outbox rows in process`);
  const relay = await relayThroughput(database, new InProcessBus(), relayCount);
  let nats: EventResults['nats_ms'] = { skipped: 'no NATS server' };
  let relayNats: EventResults['outbox_relay_nats_events_per_s'] = { skipped: 'no NATS server' };
  if (env.nats) {
    const natsBus = () => {
      const stream = `BENCH_EVENTS_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
      env.defer(() => deleteNatsStream(env.nats!.url, stream));
      return new NatsBus({ url: env.nats!.url, logger: createLogger('warn'), stream, subjectPrefix: `bench.${stream.toLowerCase()}` });
    };
    log(`events: ${count} events over NATS`);
    nats = await latency(database, natsBus(), count);
    log(`events: relay of ${relayCount} outbox rows over NATS`);
    relayNats = await relayThroughput(database, natsBus(), relayCount);
  }
  return { in_process_ms: inProcess, nats_ms: nats, outbox_relay_events_per_s: relay, outbox_relay_nats_events_per_s: relayNats };
}

/** The producer and consumer of the benchmark's module, wired as createModuleRuntime wires a module. */
function wire(database: Database, bus: EventBus, onHandled: (event: EventEnvelope) => void, consumerEffect: boolean) {
  const moduleDb = database.forModule('benchev');
  const logger = createLogger('warn');
  const telemetry = new Telemetry();
  const outbox = new OutboxDispatcher({ db: moduleDb, source: 'benchev', bus, logger, telemetry }, { sweepIntervalMs: 1_000 });
  const uow = new UnitOfWork(moduleDb, () => outbox.kick());
  const consumerUow = new UnitOfWork(moduleDb, () => undefined);
  bus.subscribe({
    consumer: 'bench_consumer',
    events: [Ping.type],
    handle: async (event) => {
      if (consumerEffect) {
        await consumerUow.handleOnce('bench_consumer', event, async (tx) => {
          await sql`INSERT INTO benchev.handled (event_id) VALUES (${event.id})`.execute(tx.db);
        });
      }
      onHandled(event);
    },
  });
  return { outbox, uow };
}

async function latency(database: Database, bus: EventBus, count: number): Promise<{ p50: number; p99: number; n: number }> {
  let waiting: ((at: number) => void) | undefined;
  const { outbox, uow } = wire(database, bus, () => waiting?.(performance.now()), true);
  await bus.start();
  outbox.start();
  const samples: number[] = [];
  try {
    for (let i = 0; i < count + 20; i++) {
      const handled = new Promise<number>((resolve) => (waiting = resolve));
      await uow.run(async (tx) => {
        await sql`SELECT 1`.execute(tx.db);
        tx.publish(Ping, { n: i });
      });
      const committed = performance.now();
      const at = await Promise.race([handled, sleep(10_000).then(() => NaN)]);
      if (Number.isNaN(at)) throw new Error('an event was not handled within 10 s');
      // The in-process bus handles the event before the unit of work returns: then it is 0 + its own time.
      if (i >= 20) samples.push(Math.max(0, at - committed));
    }
  } finally {
    await outbox.stop();
    await bus.stop();
  }
  const { p50, p99, n } = summary(samples, 2);
  return { p50, p99, n };
}

async function relayThroughput(database: Database, bus: EventBus, count: number): Promise<number> {
  let handled = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const { outbox } = wire(database, bus, () => ++handled >= count && done(), false);
  await bus.start();
  await sql`
    INSERT INTO benchev.outbox (id, event_type, event_version, payload)
    SELECT gen_random_uuid(), ${Ping.type}, 1, jsonb_build_object('n', n) FROM generate_series(1, ${count}) AS n`.execute(database.kysely);
  // What autovacuum does for an outbox that fills over time (every 10% of its rows): a table
  // filled by one statement a moment ago has no statistics, PostgreSQL then takes nearly every
  // row for one that matches 0.5% of them, and sorts all pending rows in every claim (12 ms a
  // round at 50,000 rows, measured: 9,000 events/s instead of 25,000).
  await sql`ANALYZE benchev.outbox`.execute(database.kysely);
  const started = performance.now();
  outbox.start();
  try {
    await Promise.race([finished, sleep(300_000)]);
    if (handled < count) throw new Error(`relay: only ${handled} of ${count} events arrived`);
    return round(count / ((performance.now() - started) / 1_000), 0);
  } finally {
    await outbox.stop();
    await bus.stop();
    await sql`DELETE FROM benchev.outbox`.execute(database.kysely);
  }
}
