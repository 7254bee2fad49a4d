import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger, type ModuleDatabase } from '@shop/platform';
import { createTestDatabase, type TestDatabase } from '@shop/platform/testing';
import { startApp, type RunningApp } from '../src/app.ts';
import { loadConfig, MODULE_NAMES } from '../src/config.ts';
import { TEST_SECRET, startTestApp, type TestApp } from './harness.ts';

const roleOf = async (db: ModuleDatabase) => (await sql<{ role: string }>`SELECT current_user AS role`.execute(db.kysely)).rows[0]!.role;
const databaseName = (t: TestApp) => new URL(t.database.url).pathname.slice(1);

describe('each module connects as its own database role', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.stop());

  it('<database>_<module>, one per hosted module', async () => {
    for (const name of MODULE_NAMES) expect(await roleOf(t.app.database.forModule(name))).toBe(`${databaseName(t)}_${name}`);
  });

  it("a module's query on another module's table is refused: permission denied (42501)", async () => {
    const orders = t.app.database.forModule('orders');
    await expect(sql`SELECT * FROM inventory.products`.execute(orders.kysely)).rejects.toMatchObject({
      code: '42501',
      message: 'permission denied for schema inventory',
    });
    await expect(sql`UPDATE payments.outbox SET attempts = 0`.execute(t.app.database.forModule('notifications').kysely)).rejects.toMatchObject({ code: '42501' });
    // Its own tables are fine.
    await expect(sql`SELECT count(*) FROM orders.orders`.execute(orders.kysely)).resolves.toBeDefined();
  });

  it("the running modules do their work through their roles' connections", async () => {
    const created = await t.call('POST', '/api/products', {
      token: t.adminToken,
      body: { sku: 'ROLE-1', name: 'Role mug', price_cents: 100, stock_quantity: 3 },
    });
    expect(created.status).toBe(201);
    const { rows } = await t.app.database.pool.query<{ usename: string }>(
      `SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'shop:inventory'`,
    );
    expect(rows).toEqual([{ usename: `${databaseName(t)}_inventory` }]);
  });
});

describe('DB_MODULE_ROLES=off', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ DB_MODULE_ROLES: 'off' });
  });
  afterAll(() => t?.stop());

  it("keeps every module on DATABASE_URL's user", async () => {
    const owner = (await t.app.database.pool.query<{ role: string }>('SELECT current_user AS role')).rows[0]!.role;
    expect(await roleOf(t.app.database.forModule('orders'))).toBe(owner);
    const created = await t.call('POST', '/api/products', { token: t.adminToken, body: { sku: 'OFF-1', name: 'Mug', price_cents: 100, stock_quantity: 1 } });
    expect(created.status).toBe(201);
  });
});

describe('processes starting at once on one database', () => {
  let database: TestDatabase;
  const apps: RunningApp[] = [];
  const dirs: string[] = [];
  beforeAll(async () => {
    database = await createTestDatabase(inject('pgAdminUrl'));
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop()));
    await database?.drop();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('create the roles once between them, and each serves', async () => {
    const start = async () => {
      const dataDir = await mkdtemp(path.join(tmpdir(), 'shop-roles-app-'));
      dirs.push(dataDir);
      const config = loadConfig({ DATABASE_URL: database.url, DATA_DIR: dataDir, AUTH_JWT_SECRET: TEST_SECRET, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', NODE_ENV: 'test' });
      const app = await startApp(config, createLogger('silent'));
      apps.push(app);
      return app;
    };
    const started = await Promise.all([start(), start(), start()]);
    for (const app of started) {
      const ready = await fetch(`${app.url.replace('localhost', '127.0.0.1')}/ready`);
      expect(ready.status).toBe(200);
      expect(await roleOf(app.database.forModule('payments'))).toBe(`${new URL(database.url).pathname.slice(1)}_payments`);
    }
  });
});
