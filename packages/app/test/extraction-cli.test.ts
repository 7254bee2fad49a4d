import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { inventoryMigrations } from '@shop/inventory';
import { notificationsMigrations } from '@shop/notifications';
import { ordersMigrations } from '@shop/orders';
import { paymentsMigrations } from '@shop/payments';
import { Database, ModuleTraffic } from '@shop/platform';
import { ensureTrafficTables, writeSnapshot } from '@shop/distribution';
import { createTestDatabase, type TestDatabase } from '@shop/platform/testing';
import { MODULE_NAMES } from '../src/topology-config.ts';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * `npm run extraction-report` on a prepared database (known calls, usage, outbox and inbox rows)
 * and a prepared repository folder (CODEOWNERS, extraction.config.json, no git).
 */
describe('npm run extraction-report', () => {
  let db: TestDatabase;
  let root: string;

  beforeAll(async () => {
    db = await createTestDatabase(inject('pgAdminUrl'));
    const database = new Database({ url: db.url, moduleRoles: 'off' });
    try {
      await database.migrate([inventoryMigrations, notificationsMigrations, ordersMigrations, paymentsMigrations]);
      const pool = database.pool;
      await ensureTrafficTables(pool);
      const traffic = new ModuleTraffic();
      traffic.call('payments', 'orders', 'getOrder', 'in-process', 5);
      traffic.call('orders', 'inventory', 'getProducts', 'in-process', 10);
      traffic.call('http', 'orders', 'createOrder', 'in-process', 1000);
      traffic.request('orders', 1000);
      traffic.cpu('orders', 5e6);
      for (const module of ['inventory', 'notifications', 'payments']) {
        traffic.request(module, 10);
        traffic.cpu(module, 1e5);
      }
      await writeSnapshot(pool, 'main', traffic.drain(), new Date(Date.now() - 30 * 60_000));
      // Outside the 24 h window: never counted.
      const old = new ModuleTraffic();
      old.call('payments', 'orders', 'getOrder', 'in-process', 999);
      await writeSnapshot(pool, 'main', old.drain(), new Date(Date.now() - 3 * 24 * 3_600_000));
      const events = (schema: string, type: string, count: number, age: string) =>
        pool.query(
          `INSERT INTO ${schema}.outbox (id, event_type, event_version, payload, occurred_at, status)
           SELECT gen_random_uuid(), $1, 1, '{}', now() - $2::interval, 'delivered' FROM generate_series(1, $3)`,
          [type, age, count],
        );
      await events('payments', 'PaymentCaptured', 20, '30 minutes');
      await events('payments', 'PaymentCaptured', 7, '3 days');
      await events('orders', 'OrderCreated', 5, '30 minutes');
    } finally {
      await database.close();
    }
    root = await mkdtemp(path.join(tmpdir(), 'shop-extraction-root-'));
    await writeFile(path.join(root, 'CODEOWNERS'), '* @shop/core\n/packages/payments/ @shop/payments\n');
    await writeFile(path.join(root, 'extraction.config.json'), JSON.stringify({ payments: { compliance: 'PCI DSS: card data handling', isolated: true } }));
  });
  afterAll(async () => {
    await db.drop();
    await rm(root, { recursive: true, force: true });
  });

  const report = (...args: string[]) =>
    run('node', ['--import', 'tsx', 'scripts/extraction-report.ts', '--window-hours', '24', '--root', root, ...args], {
      cwd: REPO,
      env: { ...process.env, DATABASE_URL: db.url },
    });

  it('--json scores each module from the stored evidence', async () => {
    const { stdout } = await report('--json');
    const json = JSON.parse(stdout);
    const scores = Object.fromEntries(json.modules.map((m: any) => [m.module, Object.fromEntries(m.criteria.map((c: any) => [c.criterion, c.score]))]));
    expect(scores.payments).toEqual({ communication_independence: 2, independent_scaling: 0, deployment_frequency: 0, team_ownership: 2, compliance_isolation: 2 });
    expect(scores.orders).toEqual({ communication_independence: 0, independent_scaling: 2, deployment_frequency: 0, team_ownership: 1, compliance_isolation: 0 });
    const payments = json.modules.find((m: any) => m.module === 'payments');
    expect(payments).toMatchObject({ total: 6, recommend_extraction: true });
    expect(payments.criteria[0].evidence).toBe(
      '5 synchronous calls with other modules (0 in, 5 out to orders 5) against 20 events (20 published, 0 handled) in the last 24 h: 20% synchronous, minimal (synchronous at most 20%)',
    );
    expect(payments.criteria[2]).toMatchObject({ has_evidence: false, evidence: expect.stringMatching(/^no evidence: no git history: /) });
    expect(payments.criteria[3].evidence).toContain('owned by @shop/payments (CODEOWNERS)');
    const orders = json.modules.find((m: any) => m.module === 'orders');
    expect(orders).toMatchObject({ total: 3, recommend_extraction: false });
    // The others: three modules with 10 requests each, and any module without traffic (the mean is over every other module).
    const others = MODULE_NAMES.length - 1;
    expect(orders.criteria[1].evidence).toContain(`97% of requests (1000 of 1030, ${(1000 / (30 / others)).toFixed(1)}x the mean of the others)`);
  });

  it('prints a table, and each score beside its evidence', async () => {
    const { stdout } = await report();
    expect(stdout).toMatch(/payments\s+2\s+0\s+0\?\s+2\s+2\s+6\/10\s+extract: 6\/10, at least 6/);
    expect(stdout).toMatch(/orders\s+0\s+2\s+0\?\s+1\s+0\s+3\/10\s+keep in the monolith: 3\/10, below 6/);
    expect(stdout).toContain('  compliance isolation         2  hard requirement (isolated: true in extraction.config.json): PCI DSS: card data handling');
  });

  it('without a database, says there is no run-time evidence and scores the rest', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'shop-extraction-data-'));
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir };
      delete env.DATABASE_URL;
      const { stdout, stderr } = await run('node', ['--import', 'tsx', 'scripts/extraction-report.ts', '--json', '--root', root], { cwd: REPO, env });
      expect(stderr).toContain('no database under');
      const payments = JSON.parse(stdout).modules.find((m: any) => m.module === 'payments');
      expect(payments.criteria.map((c: any) => [c.score, c.has_evidence])).toEqual([
        [0, false],
        [0, false],
        [0, false],
        [2, true],
        [2, true],
      ]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
