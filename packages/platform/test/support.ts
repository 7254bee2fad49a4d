import { fileURLToPath } from 'node:url';
import { Type } from 'typebox';
import { inject } from 'vitest';
import { defineEvent } from '@shop/contract-kit';
import { Database, migrateModule, type ModuleDatabase } from '@shop/platform';
import { createTestDatabase, type TestDatabase } from '@shop/platform/testing';

/** Helpers shared by the platform's integration tests (not a test file itself). */

export const WIDGETS_MIGRATIONS = fileURLToPath(new URL('./fixtures/widgets/migrations', import.meta.url));

export const WidgetCreated = defineEvent('widgets.widget_created', 1, Type.Object({ widget_id: Type.String(), name: Type.String() }));

export interface WidgetsDb {
  readonly testDb: TestDatabase;
  readonly db: Database;
  readonly module: ModuleDatabase;
  /** Another pool on the same database: a second process. */
  openAnother(): Database;
  close(): Promise<void>;
}

/** A fresh database with the widgets fixture module migrated into schema `widgets`. */
export async function openWidgetsDb(): Promise<WidgetsDb> {
  const testDb = await createTestDatabase(inject('pgAdminUrl'));
  const db = new Database({ url: testDb.url });
  await migrateModule(db.pool, { schema: 'widgets', directory: WIDGETS_MIGRATIONS });
  const others: Database[] = [];
  return {
    testDb,
    db,
    module: db.forModule('widgets'),
    openAnother() {
      const other = new Database({ url: testDb.url });
      others.push(other);
      return other;
    },
    async close() {
      await Promise.all([db, ...others].map((d) => d.close()));
      await testDb.drop();
    },
  };
}

/** How many rows `sql` (a `SELECT count(*) AS n ...`) counts. */
export async function countOf(db: Database, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await db.pool.query<{ n: string | number }>(sql, params);
  return Number(rows[0]?.n);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
