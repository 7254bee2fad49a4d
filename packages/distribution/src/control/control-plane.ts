import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import type { Logger } from '@shop/platform';
import type { RemotePercent } from '../remote/remote-percent.ts';
import { inTransaction } from '@shop/platform/internals';
import { ensureControlTables } from './control-tables.ts';
import { judge, type RolloutDecision } from './rollout-rules.ts';
import { RolloutWatch, isEmpty } from './rollout-watch.ts';
import { readMismatches, readRollout, readSwitches, readReplicas, sumStepStats, type MismatchView, type ReplicaView, type RolloutView, type SwitchView } from './control-reads.ts';
import type { ShadowSwitch } from './shadow-switch.ts';

/** Mismatches kept per module and method in the database. */
const MISMATCHES_KEPT = 20;

/** A module with a remote copy in this process: the switches the control plane turns. */
export interface ModuleSwitch {
  /** The share sent to its remote copy; undefined when it has only a shadow copy here. */
  readonly percent: RemotePercent | undefined;
  /** Whether its reads are shadowed, and the mismatches seen; undefined when no shadow copy is configured here. */
  readonly shadow: ShadowSwitch | undefined;
  readonly watch: RolloutWatch;
}

export interface ControlPlaneOptions {
  /** The owner's pool: the platform schema is nobody's module. */
  readonly pool: pg.Pool;
  readonly logger: Logger;
  /** This process's name (the modules it hosts), and what it runs. */
  readonly process: string;
  readonly modules: readonly string[];
  readonly version: string;
  /** Modules with a remote copy here, by name. */
  readonly switches: ReadonlyMap<string, ModuleSwitch>;
  /** How often the switches are read again (the bound on following a change); default 500 ms. */
  readonly pollMs?: number;
  /** A replica unseen for this long is not listed as alive; default 10 s. */
  readonly aliveMs?: number;
}

export interface RolloutRequest {
  readonly steps: readonly number[];
  readonly hold_ms: number;
  readonly limits: RolloutView['limits'];
}

/**
 * The deployment's switches, kept in the database and followed by every replica of every
 * process: the share of a module's calls sent to its remote copy, whether its reads are
 * shadowed, and guarded rollouts that move that share step by step. Each replica polls the
 * switches every `pollMs` (a change is followed within that bound, and a replica that missed
 * a tick catches up at the next: nothing to replay), heartbeats its own row, reports what it
 * observed of running rollouts, and takes its turn judging them (one judge at a time, by row lock).
 */
export class ControlPlane {
  readonly #options: ControlPlaneOptions;
  readonly #replicaId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> = Promise.resolve();
  #ticks = 0;
  /** When ticks started failing (the database unreachable), for one warning per outage. */
  #failingSince: number | undefined;

  constructor(options: ControlPlaneOptions) {
    this.#options = options;
  }

  get replicaId(): string {
    return this.#replicaId;
  }

  /** Creates the tables, seeds this process's switches (the first process's settings win), and follows them. */
  async start(): Promise<void> {
    const { pool, switches } = this.#options;
    await ensureControlTables(pool);
    const seeds = [...switches];
    if (seeds.length > 0) {
      await pool.query(
        `INSERT INTO platform.module_switches (module, remote_percent, shadow, changed_by)
         SELECT module, percent, true, $3 FROM unnest($1::text[], $2::int[]) AS s(module, percent)
         ON CONFLICT (module) DO NOTHING`,
        [seeds.map(([module]) => module), seeds.map(([, sw]) => sw.percent?.get() ?? 0), `seed:${this.#options.process}`],
      );
    }
    await this.#heartbeat();
    await this.#follow();
    this.#timer = setInterval(() => void this.tick(), this.#options.pollMs ?? 500);
    this.#timer.unref();
  }

  /** One round: follow the switches, report and judge rollouts, heartbeat now and then. Serialised. */
  tick(): Promise<void> {
    this.#ticking = this.#ticking.then(async () => {
      try {
        this.#ticks += 1;
        if (this.#ticks % 4 === 0) await this.#heartbeat();
        // A process with no remote copy has nothing to follow, and leaves judging to those that do.
        if (this.#options.switches.size > 0) {
          await this.#follow();
          await this.#judgeRollouts();
          await this.#writeMismatches();
        }
        if (this.#failingSince !== undefined) {
          this.#options.logger.info({ after_ms: Date.now() - this.#failingSince }, 'control plane reads the database again');
          this.#failingSince = undefined;
        }
      } catch (error) {
        // Once per outage, not twice a second: the switches stay as they were until it ends.
        if (this.#failingSince === undefined) this.#options.logger.warn({ err: error }, 'control plane cannot read the database; the switches stay as they are until it can');
        this.#failingSince ??= Date.now();
      }
    });
    return this.#ticking;
  }

  /** Stops following, reports what was observed, and removes this replica from the list. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#ticking;
    await this.#report().catch(() => undefined);
    await this.#options.pool.query('DELETE FROM platform.replicas WHERE id = $1', [this.#replicaId]).catch(() => undefined);
  }

  /** The switches as this replica applies them now (what it follows, not what is stored). */
  applied(): Array<{ module: string; remote_percent: number | null; shadow: boolean | null }> {
    return [...this.#options.switches].map(([module, sw]) => ({ module, remote_percent: sw.percent?.get() ?? null, shadow: sw.shadow?.on ?? null }));
  }

  /** The latest mismatches of every replica, per module and method, newest first. */
  mismatches(filter: { module?: string; method?: string } = {}): Promise<MismatchView[]> {
    return readMismatches(this.#options.pool, filter, MISMATCHES_KEPT);
  }

  switches(): Promise<SwitchView[]> {
    return readSwitches(this.#options.pool);
  }

  replicas(): Promise<ReplicaView[]> {
    return readReplicas(this.#options.pool, this.#options.aliveMs ?? 10_000);
  }

  /** The module's running rollout, else its latest; undefined if it never had one. */
  rollout(module: string): Promise<RolloutView | undefined> {
    return readRollout(this.#options.pool, module);
  }

  /** Sets the share for every replica; refused (false) while a rollout steers the module. */
  async setRemotePercent(module: string, percent: number, by: string): Promise<boolean> {
    const { rowCount } = await this.#options.pool.query(
      `UPDATE platform.module_switches SET remote_percent = $2, changed_at = now(), changed_by = $3
       WHERE module = $1 AND NOT EXISTS (SELECT 1 FROM platform.rollouts WHERE module = $1 AND state = 'running')`,
      [module, percent, by],
    );
    await this.#follow();
    return rowCount === 1;
  }

  async setShadow(module: string, on: boolean, by: string): Promise<void> {
    await this.#options.pool.query(`UPDATE platform.module_switches SET shadow = $2, changed_at = now(), changed_by = $3 WHERE module = $1`, [module, on, by]);
    await this.#follow();
  }

  /** Starts a rollout at its first step; undefined when one is already running for the module. */
  async startRollout(module: string, request: RolloutRequest, by: string): Promise<RolloutView | undefined> {
    const started = await inTransaction(this.#options.pool, async (client) => {
      const inserted = await client.query(
        `INSERT INTO platform.rollouts (id, module, steps, hold_ms, limits, state) VALUES ($1, $2, $3, $4, $5, 'running')
         ON CONFLICT (module) WHERE state = 'running' DO NOTHING`,
        [randomUUID(), module, request.steps, request.hold_ms, JSON.stringify(request.limits)],
      );
      if (inserted.rowCount === 1) await setPercent(client, module, request.steps[0]!, by);
      return inserted.rowCount === 1;
    });
    if (!started) return undefined;
    this.#options.logger.info({ module, steps: request.steps }, 'rollout started');
    await this.#follow();
    return this.rollout(module);
  }

  /** Aborts the running rollout: the module goes back to 0%. Undefined when none was running. */
  async abortRollout(module: string, by: string): Promise<RolloutView | undefined> {
    const ended = await this.#abort(module, `aborted by ${by}`);
    if (!ended) return undefined;
    await this.#follow();
    return this.rollout(module);
  }

  /** Reads the switches and applies them here; points each watch at its module's running rollout, after reporting the last one. */
  async #follow(): Promise<void> {
    const { switches } = this.#options;
    if (switches.size === 0) return;
    const { rows } = await this.#options.pool.query<{ module: string; remote_percent: number; shadow: boolean; rollout_id: string | null; step_index: number | null }>(
      `SELECT s.module, s.remote_percent, s.shadow, r.id AS rollout_id, r.step_index
       FROM platform.module_switches s LEFT JOIN platform.rollouts r ON r.module = s.module AND r.state = 'running'
       WHERE s.module = ANY($1::text[])`,
      [[...switches.keys()]],
    );
    await this.#report();
    for (const row of rows) {
      const sw = switches.get(row.module)!;
      if (sw.percent && sw.percent.get() !== row.remote_percent) {
        this.#options.logger.info({ module: row.module, from: sw.percent.get(), to: row.remote_percent }, 'remote percent followed');
        sw.percent.set(row.remote_percent);
      }
      if (sw.shadow) sw.shadow.on = row.shadow;
      const active = sw.watch.active;
      if (row.rollout_id === null) sw.watch.active = undefined;
      else if (active?.rollout_id !== row.rollout_id || active.step_index !== row.step_index) sw.watch.active = { rollout_id: row.rollout_id, step_index: row.step_index! };
    }
  }

  /** Adds what each watch observed to its step's samples (one row per replica and step). */
  async #report(): Promise<void> {
    for (const sw of this.#options.switches.values()) {
      const active = sw.watch.active;
      const stats = sw.watch.drain();
      if (!active || isEmpty(stats)) continue;
      try {
        await this.#options.pool.query(
          `INSERT INTO platform.rollout_samples AS t (rollout_id, step_index, replica, remote_calls, remote_errors, shadow_calls, shadow_mismatches, local_latency, remote_latency)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (rollout_id, step_index, replica) DO UPDATE SET
             remote_calls = t.remote_calls + EXCLUDED.remote_calls, remote_errors = t.remote_errors + EXCLUDED.remote_errors,
             shadow_calls = t.shadow_calls + EXCLUDED.shadow_calls, shadow_mismatches = t.shadow_mismatches + EXCLUDED.shadow_mismatches,
             local_latency = ARRAY(SELECT a + b FROM unnest(t.local_latency, EXCLUDED.local_latency) AS u(a, b)),
             remote_latency = ARRAY(SELECT a + b FROM unnest(t.remote_latency, EXCLUDED.remote_latency) AS u(a, b))`,
          [active.rollout_id, active.step_index, this.#replicaId, stats.remote_calls, stats.remote_errors, stats.shadow_calls, stats.shadow_mismatches, stats.local_latency, stats.remote_latency],
        );
      } catch (error) {
        sw.watch.restore(stats);
        throw error;
      }
    }
  }

  /** Judges each running rollout that no other replica is judging right now, and acts on the verdict. */
  async #judgeRollouts(): Promise<void> {
    const { rows } = await this.#options.pool.query<{ module: string }>(`SELECT module FROM platform.rollouts WHERE state = 'running'`);
    for (const { module } of rows) await this.#judgeOne(module);
  }

  async #judgeOne(module: string): Promise<void> {
    const decision = await inTransaction(this.#options.pool, async (client) => {
      const { rows } = await client.query(`SELECT * FROM platform.rollouts WHERE module = $1 AND state = 'running' FOR UPDATE SKIP LOCKED`, [module]);
      const rollout = rows[0];
      if (!rollout) return undefined;
      const verdict = judge(rollout, await sumStepStats(client, rollout.id, rollout.step_index), new Date());
      await applyDecision(client, rollout, verdict, `rollout:${rollout.id}`);
      return verdict;
    });
    if (!decision || decision.kind === 'hold') return;
    const { logger } = this.#options;
    if (decision.kind === 'roll_back') logger.warn({ module, decision }, 'rollout rolled back');
    else logger.info({ module, decision }, decision.kind === 'complete' ? 'rollout completed' : 'rollout advanced');
    await this.#follow();
  }

  /** Ends the running rollout as aborted and puts the module back at 0%; false when none was running. */
  #abort(module: string, reason: string): Promise<boolean> {
    return inTransaction(this.#options.pool, async (client) => {
      const { rowCount } = await client.query(`UPDATE platform.rollouts SET state = 'aborted', reason = $2, ended_at = now() WHERE module = $1 AND state = 'running'`, [module, reason]);
      if (rowCount === 1) await setPercent(client, module, 0, reason);
      return rowCount === 1;
    });
  }

  /** The mismatches every shadow saw since the last tick, into the database (the latest kept per module and method). */
  async #writeMismatches(): Promise<void> {
    const batch = [...this.#options.switches.values()].flatMap((sw) => sw.shadow?.drain() ?? []);
    if (batch.length === 0) return;
    const json = (key: 'args' | 'local' | 'shadow') => batch.map((m) => JSON.stringify(m[key] ?? null));
    await this.#options.pool.query(
      `WITH added AS (
         INSERT INTO platform.shadow_mismatches (module, method, replica, args, local, shadow, at)
         SELECT module, method, $1, args, local, shadow, at
         FROM unnest($2::text[], $3::text[], $4::jsonb[], $5::jsonb[], $6::jsonb[], $7::timestamptz[]) AS m(module, method, args, local, shadow, at)
         RETURNING module, method)
       DELETE FROM platform.shadow_mismatches d USING (SELECT DISTINCT module, method FROM added) a
       WHERE d.module = a.module AND d.method = a.method
         AND d.id < (SELECT min(id) FROM (SELECT id FROM platform.shadow_mismatches k WHERE k.module = a.module AND k.method = a.method ORDER BY id DESC LIMIT $8) AS kept)`,
      [this.#replicaId, batch.map((m) => m.module), batch.map((m) => m.method), json('args'), json('local'), json('shadow'), batch.map((m) => m.at), MISMATCHES_KEPT],
    );
  }

  async #heartbeat(): Promise<void> {
    const { pool, process: name, modules, version, switches } = this.#options;
    await pool.query(
      `INSERT INTO platform.replicas (id, process, modules, switchable, version, host, pid) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (id) DO UPDATE SET last_seen = now()`,
      [this.#replicaId, name, modules, [...switches].filter(([, sw]) => sw.percent).map(([module]) => module), version, hostname(), process.pid],
    );
    // Replicas that died without a word (SIGKILL) are forgotten after an hour.
    if (this.#ticks % 240 === 0) await pool.query(`DELETE FROM platform.replicas WHERE last_seen < now() - interval '1 hour'`);
  }
}

async function setPercent(client: pg.PoolClient, module: string, percent: number, by: string): Promise<void> {
  await client.query(`UPDATE platform.module_switches SET remote_percent = $2, changed_at = now(), changed_by = $3 WHERE module = $1`, [module, percent, by]);
}

async function applyDecision(client: pg.PoolClient, rollout: { id: string; module: string; steps: number[] }, decision: RolloutDecision, by: string): Promise<void> {
  switch (decision.kind) {
    case 'hold':
      return;
    case 'advance':
      await client.query(`UPDATE platform.rollouts SET step_index = $2, step_started_at = now() WHERE id = $1`, [rollout.id, decision.step_index]);
      await setPercent(client, rollout.module, rollout.steps[decision.step_index]!, by);
      return;
    case 'complete':
      await client.query(`UPDATE platform.rollouts SET state = 'completed', ended_at = now() WHERE id = $1`, [rollout.id]);
      return;
    case 'roll_back':
      await client.query(`UPDATE platform.rollouts SET state = 'rolled_back', reason = $2, ended_at = now() WHERE id = $1`, [rollout.id, decision.reason]);
      await setPercent(client, rollout.module, 0, by);
      return;
  }
}
