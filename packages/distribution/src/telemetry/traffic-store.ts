import type pg from 'pg';
import { inTransaction } from '@shop/platform/internals';
import type { Logger } from '@shop/platform';
import type { CallVia, ModuleTraffic, TrafficSnapshot } from '@shop/platform';

/**
 * The platform's own tables (schema `platform`, owned by the database owner, never by a module):
 * per-minute buckets of the run-time evidence, so a report can cover any window, whichever
 * process of the deployment counted what. Idempotent DDL under an advisory lock, so processes
 * starting together never race; it does not go through migrate.ts (module histories only).
 */
const SCHEMA_SQL = `
  CREATE SCHEMA IF NOT EXISTS platform;
  CREATE TABLE IF NOT EXISTS platform.module_calls (
    minute timestamptz NOT NULL,
    process text NOT NULL,
    caller text NOT NULL,
    callee text NOT NULL,
    method text NOT NULL,
    via text NOT NULL CHECK (via IN ('in-process', 'remote', 'internal')),
    calls bigint NOT NULL,
    PRIMARY KEY (minute, process, caller, callee, method, via)
  );
  CREATE TABLE IF NOT EXISTS platform.module_usage (
    minute timestamptz NOT NULL,
    process text NOT NULL,
    module text NOT NULL,
    requests bigint NOT NULL DEFAULT 0,
    cpu_micros bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (minute, process, module)
  );`;

export async function ensureTrafficTables(pool: pg.Pool): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('platform:traffic-tables'))`);
    await client.query(SCHEMA_SQL);
  });
}

export interface TrafficRecorderOptions {
  /** The owner's pool (`Database.pool`): the platform schema is nobody's module. */
  readonly pool: pg.Pool;
  readonly traffic: ModuleTraffic;
  /** This process, as the rows name it (e.g. the modules it hosts, `orders+inventory`). */
  readonly process: string;
  readonly logger: Logger;
  /** Default 10 s. */
  readonly intervalMs?: number;
  /** Buckets older than this are deleted (about hourly); default 30 days. */
  readonly retentionDays?: number;
}

/**
 * Writes what `ModuleTraffic` counted into the current minute's bucket, every `intervalMs` and
 * at stop. A failed write puts the counts back, so they go with the next flush.
 */
export class TrafficRecorder {
  readonly #options: TrafficRecorderOptions;
  #timer: NodeJS.Timeout | undefined;
  #chain: Promise<void> = Promise.resolve();
  #lastPrune = 0;

  constructor(options: TrafficRecorderOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    await ensureTrafficTables(this.#options.pool);
    this.#timer = setInterval(() => void this.flush(), this.#options.intervalMs ?? 10_000);
    this.#timer.unref();
  }

  /** Writes the counts gathered so far (serialised: one flush at a time). */
  flush(): Promise<void> {
    this.#chain = this.#chain.then(() => this.#write());
    return this.#chain;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  async #write(): Promise<void> {
    const snapshot = this.#options.traffic.drain();
    if (snapshot.calls.size === 0 && snapshot.usage.size === 0) return;
    try {
      await writeSnapshot(this.#options.pool, this.#options.process, snapshot);
      await this.#prune();
    } catch (error) {
      this.#options.traffic.restore(snapshot);
      this.#options.logger.warn({ err: error }, 'module traffic could not be written; kept for the next flush');
    }
  }

  async #prune(): Promise<void> {
    if (Date.now() - this.#lastPrune < 3_600_000) return;
    this.#lastPrune = Date.now();
    const days = this.#options.retentionDays ?? 30;
    for (const table of ['platform.module_calls', 'platform.module_usage']) {
      await this.#options.pool.query(`DELETE FROM ${table} WHERE minute < now() - make_interval(days => $1)`, [days]);
    }
  }
}

/** One statement per table: the snapshot's rows added to the current minute's bucket. */
export async function writeSnapshot(pool: pg.Pool, process: string, snapshot: TrafficSnapshot, minute?: Date): Promise<void> {
  const at = minute ? minute.toISOString() : null;
  if (snapshot.calls.size > 0) {
    const rows = [...snapshot.calls].map(([key, calls]) => [...key.split('\t'), calls] as const);
    await pool.query(
      `INSERT INTO platform.module_calls AS t (minute, process, caller, callee, method, via, calls)
       SELECT date_trunc('minute', coalesce($1::timestamptz, now())), $2, caller, callee, method, via, calls
       FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[]) AS r(caller, callee, method, via, calls)
       ON CONFLICT (minute, process, caller, callee, method, via) DO UPDATE SET calls = t.calls + EXCLUDED.calls`,
      [at, process, ...[0, 1, 2, 3, 4].map((i) => rows.map((row) => row[i]))],
    );
  }
  if (snapshot.usage.size > 0) {
    const rows = [...snapshot.usage];
    await pool.query(
      `INSERT INTO platform.module_usage AS t (minute, process, module, requests, cpu_micros)
       SELECT date_trunc('minute', coalesce($1::timestamptz, now())), $2, module, requests, cpu_micros
       FROM unnest($3::text[], $4::bigint[], $5::bigint[]) AS r(module, requests, cpu_micros)
       ON CONFLICT (minute, process, module) DO UPDATE
       SET requests = t.requests + EXCLUDED.requests, cpu_micros = t.cpu_micros + EXCLUDED.cpu_micros`,
      [at, process, rows.map(([module]) => module), rows.map(([, u]) => u.requests), rows.map(([, u]) => Math.round(u.cpuMicros))],
    );
  }
}

/** The run-time evidence of a window, summed over its minutes and over every process. */
export interface RecordedTraffic {
  readonly calls: readonly { caller: string; callee: string; method: string; via: CallVia; calls: number }[];
  readonly usage: readonly { module: string; requests: number; cpuMicros: number }[];
  /** The processes whose counts are in the window. */
  readonly processes: readonly string[];
}

/** Undefined when nothing was ever recorded in this database (no table yet). */
export async function readTraffic(pool: pg.Pool, window: { from: Date; to: Date }): Promise<RecordedTraffic | undefined> {
  const { rows: exists } = await pool.query<{ found: boolean }>(`SELECT to_regclass('platform.module_calls') IS NOT NULL AND to_regclass('platform.module_usage') IS NOT NULL AS found`);
  if (!exists[0]?.found) return undefined;
  const range = [window.from.toISOString(), window.to.toISOString()];
  const calls = await pool.query<{ caller: string; callee: string; method: string; via: CallVia; calls: number }>(
    `SELECT caller, callee, method, via, sum(calls)::bigint AS calls FROM platform.module_calls
     WHERE minute >= date_trunc('minute', $1::timestamptz) AND minute <= $2 GROUP BY caller, callee, method, via ORDER BY caller, callee, method, via`,
    range,
  );
  const usage = await pool.query<{ module: string; requests: number; cpu_micros: number }>(
    `SELECT module, sum(requests)::bigint AS requests, sum(cpu_micros)::bigint AS cpu_micros FROM platform.module_usage
     WHERE minute >= date_trunc('minute', $1::timestamptz) AND minute <= $2 GROUP BY module ORDER BY module`,
    range,
  );
  const processes = await pool.query<{ process: string }>(
    `SELECT process FROM platform.module_calls WHERE minute >= date_trunc('minute', $1::timestamptz) AND minute <= $2
     UNION SELECT process FROM platform.module_usage WHERE minute >= date_trunc('minute', $1::timestamptz) AND minute <= $2 ORDER BY process`,
    range,
  );
  return {
    calls: calls.rows,
    usage: usage.rows.map((row) => ({ module: row.module, requests: row.requests, cpuMicros: row.cpu_micros })),
    processes: processes.rows.map((row) => row.process),
  };
}

/** The last few minutes' buckets of calls between modules and of requests, every process's counts added up. */
export interface RecentTraffic {
  /** The database's clock when read. */
  readonly at: Date;
  /** The first minute bucket included. */
  readonly since: Date;
  /** Per minute bucket, caller → callee and how it went, summed over methods and processes: each call once, as its caller counted it (never `internal`). */
  readonly calls: readonly { minute: Date; caller: string; callee: string; via: Exclude<CallVia, 'internal'>; calls: number }[];
  /** Per minute bucket: requests answered by each module's routes. */
  readonly requests: readonly { minute: Date; module: string; requests: number }[];
  /** The processes whose counts are in these buckets. */
  readonly processes: readonly string[];
}

/**
 * The buckets from `minutes` minutes before the current one onwards (the primary key's range:
 * a few rows per module pair). A bucket only grows during its own minute (each flush adds to the
 * minute it runs in), so a reader that differences bucket by bucket between two reads less than
 * `minutes` minutes apart gets exactly what was flushed in between: the console's live rates.
 * Empty (never undefined) before anything was recorded.
 */
export async function readRecentTraffic(pool: pg.Pool, minutes = 2): Promise<RecentTraffic> {
  const { rows: head } = await pool.query<{ at: Date; since: Date; found: boolean }>(
    `SELECT now() AS at, date_trunc('minute', now()) - make_interval(mins => $1) AS since,
            to_regclass('platform.module_calls') IS NOT NULL AND to_regclass('platform.module_usage') IS NOT NULL AS found`,
    [minutes],
  );
  const { at, since, found } = head[0]!;
  if (!found) return { at, since, calls: [], requests: [], processes: [] };
  const [calls, requests, processes] = await Promise.all([
    pool.query<{ minute: Date; caller: string; callee: string; via: Exclude<CallVia, 'internal'>; calls: string }>(
      `SELECT minute, caller, callee, via, sum(calls)::bigint AS calls FROM platform.module_calls
       WHERE minute >= $1 AND via <> 'internal' GROUP BY minute, caller, callee, via ORDER BY minute, caller, callee, via`,
      [since],
    ),
    pool.query<{ minute: Date; module: string; requests: string }>(
      `SELECT minute, module, sum(requests)::bigint AS requests FROM platform.module_usage
       WHERE minute >= $1 AND requests > 0 GROUP BY minute, module ORDER BY minute, module`,
      [since],
    ),
    pool.query<{ process: string }>(
      `SELECT process FROM platform.module_calls WHERE minute >= $1 UNION SELECT process FROM platform.module_usage WHERE minute >= $1 ORDER BY process`,
      [since],
    ),
  ]);
  return {
    at,
    since,
    calls: calls.rows.map((row) => ({ minute: row.minute, caller: row.caller, callee: row.callee, via: row.via, calls: Number(row.calls) })),
    requests: requests.rows.map((row) => ({ minute: row.minute, module: row.module, requests: Number(row.requests) })),
    processes: processes.rows.map((row) => row.process),
  };
}
