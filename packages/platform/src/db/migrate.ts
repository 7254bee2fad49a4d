import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { messagingMigrations } from './messaging-migrations.ts';
import type { Migration } from './migration.ts';
import { applyModuleRole, type ModuleRoleGrant } from './roles.ts';

export type { Migration };

export interface ModuleMigrations {
  /** The module's schema; it owns it and nothing else. */
  readonly schema: string;
  /** Folder of `NNNN_name.sql` files, applied in name order. */
  readonly directory: string;
}

export interface MigrateOptions {
  /** The module's own role: created or refreshed, and granted its schema, after the migrations. */
  readonly role?: ModuleRoleGrant;
}

/**
 * Applies a module's migrations to its own schema, with its own history table
 * (`<schema>.schema_migrations`). The platform's outbox and inbox tables come first, so every
 * module has them. Safe when several instances start at once (advisory lock per schema), and
 * each migration commits with its history row or not at all. With `role`, then gives the
 * module's role its rights on the schema, under the same lock (roles.ts).
 */
export async function migrateModule(pool: pg.Pool, module: ModuleMigrations, options: MigrateOptions = {}): Promise<string[]> {
  const migrations = [...messagingMigrations(module.schema), ...(await readMigrations(module.directory))];
  // Checked before taking a connection: a throw between connect and try would leak the client.
  const schema = quoteIdent(module.schema);
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`migrate:${module.schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (
         id text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const applied = new Map(
      (await client.query<{ id: string; checksum: string }>(`SELECT id, checksum FROM ${schema}.schema_migrations`)).rows.map(
        (row) => [row.id, row.checksum],
      ),
    );
    const ran: string[] = [];
    for (const migration of migrations) {
      const checksum = createHash('sha256').update(migration.sql).digest('hex');
      const previous = applied.get(migration.id);
      if (previous !== undefined) {
        if (previous !== checksum) {
          throw new Error(`migration ${module.schema}/${migration.id} was changed after it was applied; add a new migration instead`);
        }
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(`SET LOCAL search_path TO ${schema}`);
        await client.query(migration.sql);
        await client.query(`INSERT INTO ${schema}.schema_migrations (id, checksum) VALUES ($1, $2)`, [migration.id, checksum]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${module.schema}/${migration.id} failed: ${(error as Error).message}`, { cause: error });
      }
      ran.push(migration.id);
    }
    if (options.role) await applyModuleRole(client, module.schema, schema, options.role);
    return ran;
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`migrate:${module.schema}`]).catch(() => undefined);
    client.release();
  }
}

/** Whether every migration of the module is applied (what `/ready` asks). */
export async function isMigrated(pool: pg.Pool, module: ModuleMigrations): Promise<boolean> {
  const expected = [...messagingMigrations(module.schema), ...(await readMigrations(module.directory))].map((m) => m.id);
  try {
    const { rows } = await pool.query<{ id: string }>(`SELECT id FROM ${quoteIdent(module.schema)}.schema_migrations`);
    const applied = new Set(rows.map((row) => row.id));
    return expected.every((id) => applied.has(id));
  } catch {
    return false;
  }
}

const cache = new Map<string, Migration[]>();

export async function readMigrations(directory: string): Promise<Migration[]> {
  const cached = cache.get(directory);
  if (cached) return cached;
  const files = (await readdir(directory)).filter((file) => /^\d{4}_[\w-]+\.sql$/.test(file)).sort();
  const migrations = await Promise.all(
    files.map(async (file) => ({ id: file.replace(/\.sql$/, ''), sql: await readFile(path.join(directory, file), 'utf8') })),
  );
  cache.set(directory, migrations);
  return migrations;
}

export function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain SQL identifier: ${name}`);
  return `"${name}"`;
}
