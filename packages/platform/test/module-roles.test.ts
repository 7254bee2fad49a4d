import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  Database,
  InProcessBus,
  OutboxDispatcher,
  Telemetry,
  UnitOfWork,
  createLogger,
  migrateModule,
  moduleRoleName,
  type Logger,
  type ModuleDatabase,
  type ModuleMigrations,
} from '@shop/platform';
import { createTestDatabase, eventually, type TestDatabase } from '@shop/platform/testing';
import { WIDGETS_MIGRATIONS, WidgetCreated } from './support.ts';

/** Two modules on one database: widgets (the fixture) and gadgets (made here). */
const widgets: ModuleMigrations = { schema: 'widgets', directory: WIDGETS_MIGRATIONS };
let gadgets: ModuleMigrations;
const tempDirs: string[] = [];
const databases: TestDatabase[] = [];
const opened: Database[] = [];

async function migrationsDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'shop-roles-'));
  tempDirs.push(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return dir;
}

async function freshDatabase(): Promise<TestDatabase> {
  const testDb = await createTestDatabase(inject('pgAdminUrl'));
  databases.push(testDb);
  return testDb;
}

function open(options: ConstructorParameters<typeof Database>[0]): Database {
  const database = new Database(options);
  opened.push(database);
  return database;
}

const nameOf = (testDb: TestDatabase) => new URL(testDb.url).pathname.slice(1);
const roleOf = async (db: ModuleDatabase) => (await sql<{ role: string }>`SELECT current_user AS role`.execute(db.kysely)).rows[0]!.role;
const GADGETS_0001 = 'CREATE TABLE gadgets (id serial PRIMARY KEY, name text NOT NULL);';

/** What a module's connection gets when it reaches outside its schema. */
async function expectDenied(query: Promise<unknown>): Promise<void> {
  await expect(query).rejects.toMatchObject({ code: '42501', message: expect.stringMatching(/^permission denied/) });
}

function recordingLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const logger = { warn: (_bindings: unknown, message: string) => warnings.push(message) } as unknown as Logger;
  return { logger, warnings };
}

let testDb: TestDatabase;
let database: Database;

beforeAll(async () => {
  gadgets = { schema: 'gadgets', directory: await migrationsDir({ '0001_gadgets.sql': GADGETS_0001 }) };
  testDb = await freshDatabase();
  database = open({ url: testDb.url, connectionsPerModule: 10 });
  await database.migrate([widgets, gadgets]);
});

afterAll(async () => {
  await Promise.all(opened.map((db) => db.close()));
  for (const db of databases) await db.drop();
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('per-module database roles', () => {
  it('connect each module as <database>_<schema>, while the owner keeps its own pool', async () => {
    expect(await roleOf(database.forModule('widgets'))).toBe(`${nameOf(testDb)}_widgets`);
    expect(await roleOf(database.forModule('gadgets'))).toBe(`${nameOf(testDb)}_gadgets`);
    const owner = (await database.pool.query<{ role: string }>('SELECT current_user AS role')).rows[0]!.role;
    expect(owner).not.toMatch(/_widgets$|_gadgets$/);
  });

  it('let a module read and write its own schema: its tables, outbox and inbox', async () => {
    const module = database.forModule('widgets');
    const bus = new InProcessBus();
    const handled: string[] = [];
    const consumer = new UnitOfWork(module, () => undefined);
    bus.subscribe({
      consumer: 'recorder',
      events: [WidgetCreated.type],
      handle: async (event) => {
        await consumer.handleOnce('recorder', event, async (tx) => {
          await tx.db.insertInto('widgets.effects').values({ consumer: 'recorder', event_id: event.id }).execute();
        });
        handled.push(WidgetCreated.payloadOf(event).widget_id);
      },
    });
    const dispatcher = new OutboxDispatcher(
      { db: module, source: 'widgets', bus, logger: createLogger('silent'), telemetry: new Telemetry({ defaultMetrics: false }) },
      { sweepIntervalMs: 20, retryBaseMs: 10 },
    );
    const uow = new UnitOfWork(module, () => dispatcher.kick());
    dispatcher.start();
    try {
      const widget_id = randomUUID();
      await uow.run(async (tx) => {
        await tx.db.insertInto('widgets.widgets').values({ id: widget_id, name: 'own' }).execute();
        tx.publish(WidgetCreated, { widget_id, name: 'own' });
      });
      await eventually(async () => expect(await dispatcher.counts()).toEqual({ pending: 0, delivered: 1, failed: 0 }), 5_000, 20);
      expect(handled).toEqual([widget_id]);
      const effects = await module.kysely.selectFrom('widgets.effects').selectAll().execute();
      expect(effects).toHaveLength(1);
      expect(await module.kysely.selectFrom('widgets.inbox').select('consumer').execute()).toEqual([{ consumer: 'recorder' }]);
      // Sequences too (serial): gadgets inserts without naming an id.
      const gadget = await database.forModule('gadgets').kysely.insertInto('gadgets.gadgets').values({ name: 'g' }).returning('id').executeTakeFirstOrThrow();
      expect(gadget.id).toBeGreaterThan(0);
    } finally {
      await dispatcher.stop();
    }
  });

  it("refuse a module's query on another module's table: permission denied (42501)", async () => {
    const widgetsDb = database.forModule('widgets');
    const gadgetsDb = database.forModule('gadgets');
    await expectDenied(sql`SELECT * FROM gadgets.gadgets`.execute(widgetsDb.kysely));
    await expectDenied(widgetsDb.kysely.selectFrom('gadgets.outbox').selectAll().execute());
    await expectDenied(gadgetsDb.kysely.insertInto('widgets.widgets').values({ id: randomUUID(), name: 'foreign' }).execute());
    await expectDenied(sql`SELECT * FROM widgets.inbox`.execute(gadgetsDb.kysely));
    // The owner, for comparison, sees both.
    await expect(database.pool.query('SELECT * FROM gadgets.gadgets, widgets.widgets')).resolves.toBeDefined();
  });

  it('give a module no DDL, no migration history and nothing in public', async () => {
    const module = database.forModule('widgets');
    await expectDenied(sql`CREATE TABLE widgets.sneaky (id int)`.execute(module.kysely));
    await expectDenied(sql`SELECT * FROM widgets.schema_migrations`.execute(module.kysely));
    await expectDenied(sql`CREATE TABLE public.sneaky (id int)`.execute(module.kysely));
    await expectDenied(sql`CREATE SCHEMA sneaky`.execute(module.kysely));
  });

  it("grant tables of later migrations, and re-run without changing a module's password", async () => {
    const v2 = { schema: 'gadgets', directory: await migrationsDir({ '0001_gadgets.sql': GADGETS_0001, '0002_parts.sql': 'CREATE TABLE parts (id bigserial PRIMARY KEY, gadget_id int NOT NULL);' }) };
    // A second process (a newer release) migrates; the first one's module pools keep connecting.
    const next = open({ url: testDb.url, connectionsPerModule: 6 });
    await next.migrate([widgets, v2]);
    await next.forModule('gadgets').kysely.insertInto('gadgets.parts').values({ gadget_id: 1 }).execute();
    const fresh = open({ url: testDb.url, connectionsPerModule: 6 });
    await fresh.migrate([widgets, v2]);
    await Promise.all([database.forModule('gadgets').kysely.selectFrom('gadgets.parts').selectAll().execute(), fresh.forModule('gadgets').kysely.selectFrom('gadgets.parts').selectAll().execute()]);
    // Still one role per module.
    const { rows } = await database.pool.query<{ n: number }>('SELECT count(*) AS n FROM pg_roles WHERE starts_with(rolname, $1)', [`${nameOf(testDb)}_`]);
    expect(rows[0]!.n).toBe(2);
  });

  it('give each module a pool of its own size, and the owner a couple', () => {
    expect(database.connectionLimits()).toEqual({ owner: 2, widgets: 10, gadgets: 10 });
  });
});

describe('several processes migrating one database at once', () => {
  it('create each role once, whoever comes first, with every migration applied once', async () => {
    const shared = await freshDatabase();
    // Four processes: two migrate widgets then gadgets, two the other way round.
    const processes = Array.from({ length: 4 }, () => open({ url: shared.url, connectionsPerModule: 4 }));
    await Promise.all(processes.map((process, i) => process.migrate(i % 2 === 0 ? [widgets, gadgets] : [gadgets, widgets])));
    for (const process of processes) {
      await process.forModule('widgets').kysely.insertInto('widgets.widgets').values({ id: randomUUID(), name: 'w' }).execute();
      await expectDenied(sql`SELECT * FROM gadgets.gadgets`.execute(process.forModule('widgets').kysely));
    }
    const { rows } = await processes[0]!.pool.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1) ORDER BY rolname', [`${nameOf(shared)}_`]);
    expect(rows.map((row) => row.rolname)).toEqual([`${nameOf(shared)}_gadgets`, `${nameOf(shared)}_widgets`]);
  });

  it('lets two migrateModule calls create and grant the same role concurrently', async () => {
    const shared = await freshDatabase();
    const owner = open({ url: shared.url, connectionsPerModule: 4 });
    const role = moduleRoleName(nameOf(shared), 'widgets');
    const grant = { role, create: { database: nameOf(shared), password: 'not-used-here' } };
    const runs = await Promise.all([migrateModule(owner.pool, widgets, { role: grant }), migrateModule(owner.pool, widgets, { role: grant })]);
    expect(runs.flat().sort()).toEqual(['0001_widgets', 'platform-0001_outbox_inbox', 'platform-0002_outbox_claim_in_order', 'platform-0003_retention']);
    const { rows } = await owner.pool.query<{ usage: boolean }>(`SELECT has_schema_privilege($1, 'widgets', 'USAGE') AS usage`, [role]);
    expect(rows).toEqual([{ usage: true }]);
  });
});

describe('where roles cannot, or should not, be created', () => {
  it('uses a pre-created role named by URL: grants it the schema, creates nothing', async () => {
    const role = `${nameOf(testDb)}_precreated`;
    await database.pool.query(`CREATE ROLE ${role} LOGIN PASSWORD 'pre-created-secret'`);
    const url = new URL(testDb.url);
    url.username = role;
    url.password = 'pre-created-secret';
    const process = open({ url: testDb.url, connectionsPerModule: 4, moduleUrls: { widgets: url.toString() } });
    await process.migrate([widgets]);
    expect(await roleOf(process.forModule('widgets'))).toBe(role);
    await process.forModule('widgets').kysely.selectFrom('widgets.outbox').selectAll().execute();
    await expectDenied(sql`SELECT * FROM gadgets.gadgets`.execute(process.forModule('widgets').kysely));
  });

  it('shares the owner connection when roles are off', async () => {
    const process = open({ url: testDb.url, connectionsPerModule: 4, moduleRoles: 'off' });
    await process.migrate([widgets, gadgets]);
    const owner = (await process.pool.query<{ role: string }>('SELECT current_user AS role')).rows[0]!.role;
    expect(await roleOf(process.forModule('widgets'))).toBe(owner);
    // Both modules' connections are on the owner's pool, beside its own couple.
    expect(process.connectionLimits()).toEqual({ owner: 2 + 2 * 4 });
  });

  it('warns once and shares the owner connection when the owner may not create roles (auto), refuses with on', async () => {
    const plain = await freshDatabase();
    const ownerRole = `${nameOf(plain)}_owner`;
    await database.pool.query(`CREATE ROLE ${ownerRole} LOGIN PASSWORD 'owner-secret' NOCREATEROLE`);
    await database.pool.query(`ALTER DATABASE ${nameOf(plain)} OWNER TO ${ownerRole}`);
    const url = new URL(plain.url);
    url.username = ownerRole;
    url.password = 'owner-secret';

    const { logger, warnings } = recordingLogger();
    const process = open({ url: url.toString(), connectionsPerModule: 4 });
    await process.migrate([widgets, gadgets], logger);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(`the database user ${ownerRole} may not create roles (no CREATEROLE): widgets, gadgets share its connection`);
    expect(await roleOf(process.forModule('widgets'))).toBe(ownerRole);

    const strict = open({ url: url.toString(), connectionsPerModule: 4, moduleRoles: 'on' });
    await expect(strict.migrate([widgets])).rejects.toThrow(`DB_MODULE_ROLES=on but the database user ${ownerRole} may not create roles`);
  });

  it('works for an owner with CREATEROLE that is no superuser', async () => {
    const plain = await freshDatabase();
    const ownerRole = `${nameOf(plain)}_owner`;
    await database.pool.query(`CREATE ROLE ${ownerRole} LOGIN PASSWORD 'owner-secret' CREATEROLE`);
    await database.pool.query(`ALTER DATABASE ${nameOf(plain)} OWNER TO ${ownerRole}`);
    const url = new URL(plain.url);
    url.username = ownerRole;
    url.password = 'owner-secret';
    const process = open({ url: url.toString(), connectionsPerModule: 4 });
    await process.migrate([widgets, gadgets]);
    expect(await roleOf(process.forModule('gadgets'))).toBe(`${nameOf(plain)}_gadgets`);
    await process.forModule('gadgets').kysely.insertInto('gadgets.gadgets').values({ name: 'g' }).execute();
    await expectDenied(sql`SELECT * FROM widgets.widgets`.execute(process.forModule('gadgets').kysely));
  });

  it('never takes over a role of that name it did not create', async () => {
    const other = await freshDatabase();
    await database.pool.query(`CREATE ROLE ${nameOf(other)}_widgets LOGIN`);
    const process = open({ url: other.url, connectionsPerModule: 4 });
    await expect(process.migrate([widgets])).rejects.toThrow(`role ${nameOf(other)}_widgets exists but was not created for schema widgets of this database`);
  });
});

describe('moduleRoleName', () => {
  it('is <database>_<schema>, kept to 63 characters and a plain identifier', () => {
    expect(moduleRoleName('shop', 'inventory')).toBe('shop_inventory');
    expect(moduleRoleName('My-Shop', 'orders')).toBe('my_shop_orders');
    expect(moduleRoleName('2024shop', 'orders')).toBe('db_2024shop_orders');
    const long = moduleRoleName('a'.repeat(80), 'notifications');
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^a+_[0-9a-f]{8}_notifications$/);
    expect(long).not.toBe(moduleRoleName(`${'a'.repeat(79)}b`, 'notifications'));
  });
});
