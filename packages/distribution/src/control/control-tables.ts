import type pg from 'pg';
import { inTransaction } from '@shop/platform/internals';

/**
 * The deployment's control plane, in the platform's schema (owned by the database owner, never
 * by a module), so every replica of every process reads the same switches and a restart keeps
 * them. Idempotent DDL under an advisory lock, as for the traffic tables: processes starting
 * together never race.
 */
const SCHEMA_SQL = `
  CREATE SCHEMA IF NOT EXISTS platform;
  -- One row per module with a remote copy somewhere: the share of its calls sent there, and
  -- whether its reads are shadowed. Seeded from <MODULE>_REMOTE_PERCENT by the first process.
  CREATE TABLE IF NOT EXISTS platform.module_switches (
    module text PRIMARY KEY,
    remote_percent integer NOT NULL DEFAULT 0 CHECK (remote_percent BETWEEN 0 AND 100),
    shadow boolean NOT NULL DEFAULT true,
    changed_at timestamptz NOT NULL DEFAULT now(),
    changed_by text NOT NULL
  );
  -- Guarded rollouts: at most one running per module; ended ones are kept as history.
  CREATE TABLE IF NOT EXISTS platform.rollouts (
    id uuid PRIMARY KEY,
    module text NOT NULL,
    steps integer[] NOT NULL,
    hold_ms integer NOT NULL,
    limits jsonb NOT NULL,
    step_index integer NOT NULL DEFAULT 0,
    state text NOT NULL CHECK (state IN ('running', 'completed', 'rolled_back', 'aborted')),
    reason text,
    started_at timestamptz NOT NULL DEFAULT now(),
    step_started_at timestamptz NOT NULL DEFAULT now(),
    ended_at timestamptz
  );
  CREATE UNIQUE INDEX IF NOT EXISTS rollouts_one_running ON platform.rollouts (module) WHERE state = 'running';
  CREATE INDEX IF NOT EXISTS rollouts_newest ON platform.rollouts (module, started_at DESC);
  -- What each replica observed of a rollout's step: the judge sums them over every replica.
  CREATE TABLE IF NOT EXISTS platform.rollout_samples (
    rollout_id uuid NOT NULL,
    step_index integer NOT NULL,
    replica text NOT NULL,
    remote_calls bigint NOT NULL DEFAULT 0,
    remote_errors bigint NOT NULL DEFAULT 0,
    shadow_calls bigint NOT NULL DEFAULT 0,
    shadow_mismatches bigint NOT NULL DEFAULT 0,
    local_latency bigint[] NOT NULL,
    remote_latency bigint[] NOT NULL,
    PRIMARY KEY (rollout_id, step_index, replica)
  );
  -- The latest shadow mismatches per module and method (redacted), for operators to read.
  CREATE TABLE IF NOT EXISTS platform.shadow_mismatches (
    id bigserial PRIMARY KEY,
    module text NOT NULL,
    method text NOT NULL,
    replica text NOT NULL,
    args jsonb NOT NULL,
    local jsonb NOT NULL,
    shadow jsonb NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX IF NOT EXISTS shadow_mismatches_latest ON platform.shadow_mismatches (module, method, id DESC);
  -- Every running replica, refreshed by its heartbeat; a stopping one removes itself.
  CREATE TABLE IF NOT EXISTS platform.replicas (
    id text PRIMARY KEY,
    process text NOT NULL,
    modules text[] NOT NULL,
    switchable text[] NOT NULL,
    version text NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    last_seen timestamptz NOT NULL DEFAULT now()
  );`;

export async function ensureControlTables(pool: pg.Pool): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('platform:control-tables'))`);
    await client.query(SCHEMA_SQL);
  });
}
