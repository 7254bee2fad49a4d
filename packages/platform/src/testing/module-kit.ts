import { inject } from 'vitest';
import { Database, type ModuleDatabase } from '../db/pool.ts';
import type { ModuleMigrations } from '../db/migrate.ts';
import { createLogger } from '../logger.ts';
import type { ModuleDeps, ModuleInstance } from '../module.ts';
import { Telemetry } from '../telemetry/metrics.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { RecordingBus } from './recording-bus.ts';
import { Scenario } from './scenario.ts';

/** One module under test, on its own fresh database, with a bus that records what it publishes. */
export interface ModuleTestKit {
  readonly database: Database;
  readonly bus: RecordingBus;
  readonly scenario: Scenario;
  /** The dependencies a module factory needs, for the module owning `schema`. */
  deps(schema: string): ModuleDeps & { db: ModuleDatabase };
  /** Subscribes the module's handlers and starts it; stopped again by `stop()`. */
  run<M extends ModuleInstance>(module: M): Promise<M>;
  /** Rows of a SQL query on the test database, as its owner (for asserting what the module stored). */
  sql<Row = Record<string, any>>(text: string, values?: unknown[]): Promise<Row[]>;
  stop(): Promise<void>;
}

/**
 * A real PostgreSQL database (from the test run's global setup), the module's migrations
 * applied, an in-process recording bus, and a `Scenario` over it.
 */
export async function startModuleTestKit(migrations: readonly ModuleMigrations[]): Promise<ModuleTestKit> {
  const testDb: TestDatabase = await createTestDatabase(inject('pgAdminUrl'));
  const database = new Database({ url: testDb.url, connectionsPerModule: 10 });
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  // As the app does: each module connects as its own role, with rights on its schema only.
  await database.migrate(migrations, logger);
  const bus = new RecordingBus();
  const telemetry = new Telemetry();
  const running: ModuleInstance[] = [];
  return {
    database,
    bus,
    scenario: new Scenario(bus),
    deps: (schema) => ({ db: database.forModule(schema), bus, logger, telemetry, outbox: { sweepIntervalMs: 100, retryBaseMs: 20, maxAttempts: 10 } }),
    async run(module) {
      for (const subscription of module.subscriptions) bus.subscribe(subscription);
      await module.start();
      running.push(module);
      return module;
    },
    sql: async (text, values = []) => (await database.pool.query(text, values)).rows,
    async stop() {
      for (const module of running.reverse()) await module.stop();
      await database.close();
      await testDb.drop();
    },
  };
}
