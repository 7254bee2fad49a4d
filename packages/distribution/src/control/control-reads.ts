import type pg from 'pg';
import { addHistograms, emptyHistogram, quantileOf } from './latency-histogram.ts';
import { judge, type RolloutLimits, type StepStats } from './rollout-rules.ts';

/** One module's switches, as every replica follows them. */
export interface SwitchView {
  readonly module: string;
  readonly remote_percent: number;
  readonly shadow: boolean;
  readonly changed_at: string;
  readonly changed_by: string;
}

/** A replica that heartbeated recently. */
export interface ReplicaView {
  readonly id: string;
  readonly process: string;
  readonly modules: string[];
  /** Hosted modules that have a remote copy from this replica (their switches apply here). */
  readonly switchable: string[];
  readonly version: string;
  readonly host: string;
  readonly pid: number;
  readonly started_at: string;
  readonly last_seen: string;
}

export interface RolloutView {
  readonly id: string;
  readonly module: string;
  readonly state: 'running' | 'completed' | 'rolled_back' | 'aborted';
  readonly steps: number[];
  readonly step_index: number;
  /** The share the current (or last) step sends to the remote copy. */
  readonly step_percent: number;
  readonly hold_ms: number;
  readonly limits: RolloutLimits;
  /** Why it ended, when it was rolled back or aborted. */
  readonly reason: string | null;
  readonly started_at: string;
  readonly step_started_at: string;
  readonly ended_at: string | null;
  /** What every replica observed of the current step (the local side: over the whole rollout). */
  readonly observed: {
    readonly remote_calls: number;
    readonly remote_errors: number;
    readonly shadow_calls: number;
    readonly shadow_mismatches: number;
    readonly remote_p99_ms: number | null;
    readonly local_p99_ms: number | null;
  };
  /** While running: what the next step waits for (time held, calls seen), if anything. */
  readonly waiting_for: string | null;
}

export async function readSwitches(pool: pg.Pool): Promise<SwitchView[]> {
  const { rows } = await pool.query(`SELECT module, remote_percent, shadow, changed_at, changed_by FROM platform.module_switches ORDER BY module`);
  return rows.map((row) => ({ ...row, changed_at: row.changed_at.toISOString() }));
}

export async function readReplicas(pool: pg.Pool, aliveMs: number): Promise<ReplicaView[]> {
  const { rows } = await pool.query(
    `SELECT id, process, modules, switchable, version, host, pid, started_at, last_seen FROM platform.replicas
     WHERE last_seen > now() - make_interval(secs => $1) ORDER BY process, started_at, id`,
    [aliveMs / 1000],
  );
  return rows.map((row) => ({ ...row, started_at: row.started_at.toISOString(), last_seen: row.last_seen.toISOString() }));
}

export async function readRollout(pool: pg.Pool, module: string): Promise<RolloutView | undefined> {
  const { rows } = await pool.query(`SELECT * FROM platform.rollouts WHERE module = $1 ORDER BY (state = 'running') DESC, started_at DESC LIMIT 1`, [module]);
  const row = rows[0];
  if (!row) return undefined;
  const stats = await sumStepStats(pool, row.id, row.step_index);
  const verdict = row.state === 'running' ? judge(row, stats, new Date()) : undefined;
  return {
    id: row.id,
    module: row.module,
    state: row.state,
    steps: row.steps,
    step_index: row.step_index,
    step_percent: row.steps[row.step_index],
    hold_ms: row.hold_ms,
    limits: row.limits,
    reason: row.reason,
    started_at: row.started_at.toISOString(),
    step_started_at: row.step_started_at.toISOString(),
    ended_at: row.ended_at?.toISOString() ?? null,
    observed: {
      remote_calls: stats.remote_calls,
      remote_errors: stats.remote_errors,
      shadow_calls: stats.shadow_calls,
      shadow_mismatches: stats.shadow_mismatches,
      remote_p99_ms: quantileOf(stats.remote_latency, 0.99) ?? null,
      local_p99_ms: quantileOf(stats.local_latency, 0.99) ?? null,
    },
    waiting_for: verdict?.kind === 'hold' ? verdict.waiting_for : null,
  };
}

/** Every replica's samples: the remote side of the step, the local side of the whole rollout (its baseline). */
export async function sumStepStats(db: pg.Pool | pg.PoolClient, rolloutId: string, stepIndex: number): Promise<StepStats> {
  const { rows } = await db.query<{ step_index: number; remote_calls: string; remote_errors: string; shadow_calls: string; shadow_mismatches: string; local_latency: string[]; remote_latency: string[] }>(
    `SELECT step_index, remote_calls, remote_errors, shadow_calls, shadow_mismatches, local_latency, remote_latency FROM platform.rollout_samples WHERE rollout_id = $1`,
    [rolloutId],
  );
  const stats = { remote_calls: 0, remote_errors: 0, shadow_calls: 0, shadow_mismatches: 0, local_latency: emptyHistogram(), remote_latency: emptyHistogram() };
  for (const row of rows) {
    addHistograms(stats.local_latency, row.local_latency.map(Number));
    if (row.step_index !== stepIndex) continue;
    stats.remote_calls += Number(row.remote_calls);
    stats.remote_errors += Number(row.remote_errors);
    stats.shadow_calls += Number(row.shadow_calls);
    stats.shadow_mismatches += Number(row.shadow_mismatches);
    addHistograms(stats.remote_latency, row.remote_latency.map(Number));
  }
  return stats;
}

/** A shadow mismatch as stored: both answers redacted, side by side. */
export interface MismatchView {
  readonly module: string;
  readonly method: string;
  readonly replica: string;
  readonly at: string;
  readonly args: unknown;
  readonly local: unknown;
  readonly shadow: unknown;
}

export async function readMismatches(pool: pg.Pool, filter: { module?: string; method?: string }, perMethod: number): Promise<MismatchView[]> {
  const { rows } = await pool.query(
    `SELECT module, method, replica, at, args, local, shadow FROM (
       SELECT *, row_number() OVER (PARTITION BY module, method ORDER BY id DESC) AS n FROM platform.shadow_mismatches
       WHERE ($1::text IS NULL OR module = $1) AND ($2::text IS NULL OR method = $2)) AS latest
     WHERE n <= $3 ORDER BY module, method, at DESC`,
    [filter.module ?? null, filter.method ?? null, perMethod],
  );
  return rows.map((row) => ({ ...row, at: row.at.toISOString() }));
}
