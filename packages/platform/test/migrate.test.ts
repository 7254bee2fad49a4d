import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { Database, migrateModule } from '@shop/platform';
import { createTestDatabase, type TestDatabase } from '@shop/platform/testing';
import { WIDGETS_MIGRATIONS, countOf } from './support.ts';

const ALL = ['platform-0001_outbox_inbox', 'platform-0002_outbox_claim_in_order', 'platform-0003_retention', '0001_widgets'];

let testDb: TestDatabase;
let db: Database;
const tempDirs: string[] = [];

beforeAll(async () => {
  testDb = await createTestDatabase(inject('pgAdminUrl'));
  db = new Database({ url: testDb.url });
});

afterAll(async () => {
  await db?.close();
  await testDb?.drop();
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/**
 * A new folder of migrations. Always a new folder: the migrator caches what it read per folder
 * (a process reads its migrations once), so a "changed file" is a new folder with the same names.
 */
async function migrationsDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'shop-migrations-'));
  tempDirs.push(dir);
  for (const [name, sql] of Object.entries(files)) await writeFile(path.join(dir, name), sql);
  return dir;
}

async function historyOf(schema: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ id: string }>(`SELECT id FROM "${schema}".schema_migrations ORDER BY id`);
  return rows.map((row) => row.id);
}

describe('migrateModule', () => {
  it('applies the platform tables then the module files, and a re-run applies nothing', async () => {
    expect(await migrateModule(db.pool, { schema: 'widgets', directory: WIDGETS_MIGRATIONS })).toEqual(ALL);
    expect(await migrateModule(db.pool, { schema: 'widgets', directory: WIDGETS_MIGRATIONS })).toEqual([]);
    expect(await historyOf('widgets')).toEqual([...ALL].sort());
    // The module's tables landed in its schema, next to its outbox and inbox, not in public.
    const { rows } = await db.pool.query<{ table_schema: string; table_name: string }>(
      `SELECT table_schema, table_name FROM information_schema.tables
       WHERE table_name IN ('widgets', 'effects', 'outbox', 'inbox', 'schema_migrations') ORDER BY table_schema, table_name`,
    );
    expect(rows).toEqual(
      ['effects', 'inbox', 'outbox', 'schema_migrations', 'widgets'].map((table_name) => ({ table_schema: 'widgets', table_name })),
    );
  });

  it('keeps one history table per schema', async () => {
    const dir = await migrationsDir({ '0001_things.sql': 'CREATE TABLE things (id int);' });
    await migrateModule(db.pool, { schema: 'history_a', directory: dir });
    // history_b has the same files but its own history: everything runs again there.
    expect(await migrateModule(db.pool, { schema: 'history_b', directory: dir })).toEqual(['platform-0001_outbox_inbox', 'platform-0002_outbox_claim_in_order', 'platform-0003_retention', '0001_things']);
    expect(await historyOf('history_a')).toEqual(['0001_things', 'platform-0001_outbox_inbox', 'platform-0002_outbox_claim_in_order', 'platform-0003_retention']);
    expect(await historyOf('history_b')).toEqual(['0001_things', 'platform-0001_outbox_inbox', 'platform-0002_outbox_claim_in_order', 'platform-0003_retention']);
    await db.pool.query('INSERT INTO history_a.things VALUES (1)');
    expect(await countOf(db, 'SELECT count(*) AS n FROM history_b.things')).toBe(0);
  });

  it('refuses a migration changed after it was applied, and runs nothing of it', async () => {
    const v1 = await migrationsDir({ '0001_base.sql': 'CREATE TABLE base (id int);' });
    await migrateModule(db.pool, { schema: 'changed', directory: v1 });
    const v2 = await migrationsDir({
      '0001_base.sql': 'CREATE TABLE base (id int); CREATE TABLE sneaky (id int);',
      '0002_next.sql': 'CREATE TABLE next (id int);',
    });
    await expect(migrateModule(db.pool, { schema: 'changed', directory: v2 })).rejects.toThrow(
      'migration changed/0001_base was changed after it was applied; add a new migration instead',
    );
    expect(await historyOf('changed')).toEqual(['0001_base', 'platform-0001_outbox_inbox', 'platform-0002_outbox_claim_in_order', 'platform-0003_retention']);
    expect(await countOf(db, `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'changed' AND table_name IN ('sneaky', 'next')`)).toBe(0);
  });

  it('rolls back a failing migration with its history row, keeping the ones before', async () => {
    const dir = await migrationsDir({
      '0001_ok.sql': 'CREATE TABLE ok (id int);',
      '0002_bad.sql': 'CREATE TABLE half (id int); SELECT no_such_function();',
    });
    await expect(migrateModule(db.pool, { schema: 'failing', directory: dir })).rejects.toThrow(/^migration failing\/0002_bad failed: .*no_such_function/);
    expect(await historyOf('failing')).toEqual(['0001_ok', 'platform-0001_outbox_inbox', 'platform-0002_outbox_claim_in_order', 'platform-0003_retention']);
    expect(await countOf(db, `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'failing' AND table_name = 'half'`)).toBe(0);
  });

  it('lets several instances migrate one schema at once: each migration runs exactly once', async () => {
    // Slow migrations widen the window in which unlocked runners would collide.
    const dir = await migrationsDir({
      '0001_slow.sql': 'SELECT pg_sleep(0.2); CREATE TABLE slow (id int);',
      '0002_more.sql': 'CREATE TABLE more (id int);',
    });
    const runs = await Promise.all(Array.from({ length: 5 }, () => migrateModule(db.pool, { schema: 'racing', directory: dir })));
    // Whoever got the lock first ran everything; the others found it done.
    expect(runs.flat().sort()).toEqual(['0001_slow', '0002_more', 'platform-0001_outbox_inbox', 'platform-0002_outbox_claim_in_order', 'platform-0003_retention']);
    expect(runs.filter((ran) => ran.length === 0)).toHaveLength(4);
    expect(await historyOf('racing')).toEqual(['0001_slow', '0002_more', 'platform-0001_outbox_inbox', 'platform-0002_outbox_claim_in_order', 'platform-0003_retention']);
  });

  it('refuses a schema name that is not a plain identifier, without leaking a connection', async () => {
    const small = new pg.Pool({ connectionString: testDb.url, max: 1 });
    try {
      await expect(migrateModule(small, { schema: 'bad"; DROP', directory: WIDGETS_MIGRATIONS })).rejects.toThrow('not a plain SQL identifier');
      // With one connection in the pool, a leaked one would leave nothing for this query.
      await small.query('SELECT 1');
    } finally {
      await small.end();
    }
  });
});
