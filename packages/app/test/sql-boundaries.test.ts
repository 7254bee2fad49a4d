import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSqlBoundaries, formatViolation } from '../../../scripts/sql-boundaries.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The SQL boundary rules must catch what they claim to: each case seeds one violation in a
 * throwaway tree of two modules and expects exactly the lines that break the rule.
 */
describe('SQL boundary rules (scripts/sql-boundaries.ts)', () => {
  let tree: string;
  beforeAll(async () => {
    tree = await mkdtemp(path.join(tmpdir(), 'shop-sql-boundaries-'));
  });
  afterAll(() => rm(tree, { recursive: true, force: true }));

  const clean = {
    'packages/orders/contract/src/index.ts': 'export const contract = 1;\n',
    'packages/inventory/contract/src/index.ts': 'export const contract = 1;\n',
    'packages/platform/src/index.ts': "export const q = 'SELECT * FROM inventory.products';\n", // not a module: not checked
    'packages/orders/migrations/0001_orders.sql': [
      '-- The orders schema; products live in inventory.products, no foreign key to them.',
      'CREATE TABLE orders (id uuid PRIMARY KEY);',
      '/* inventory.reservations is not ours either */',
      'CREATE TABLE order_items (order_id uuid REFERENCES orders (id), product_id uuid NOT NULL);',
      'CREATE TABLE audit (order_id uuid REFERENCES orders.orders (id));',
      '',
    ].join('\n'),
    'packages/orders/src/repository.ts': [
      "import { StockReserved } from '@shop/inventory-contract';",
      "import type { InventoryApi } from '@shop/inventory-contract';",
      'export const deps = { inventory: {} as InventoryApi };',
      '// inventory.products is read through inventory.api, never here',
      'export const name = deps.inventory;',
      "export const own = (db: any, id: string) => db.selectFrom('orders.orders').where('id', '=', id);",
      'export const raw = (sql: any, id: string) => sql`SELECT * FROM orders.order_items WHERE order_id = ${id}`;',
      'export const event = StockReserved;',
      '',
    ].join('\n'),
  };

  async function treeWith(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(path.join(tree, 'case-'));
    for (const [file, content] of Object.entries({ ...clean, ...files })) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), content);
    }
    return dir;
  }

  const violationsOf = async (files: Record<string, string>) => (await checkSqlBoundaries(await treeWith(files))).map(formatViolation);

  it('passes the repository', async () => {
    expect((await checkSqlBoundaries(root)).map(formatViolation)).toEqual([]);
  });

  it('passes a tree that keeps to the rules (comments, imports, identifiers and its own schema are fine)', async () => {
    expect(await violationsOf({})).toEqual([]);
  });

  it('fails a migration with a foreign key into another schema', async () => {
    const seeded = {
      'packages/orders/migrations/0002_fk.sql': 'ALTER TABLE order_items\n  ADD FOREIGN KEY (product_id) REFERENCES inventory.products (id);\n',
      'packages/inventory/migrations/0001_catalog.sql': 'CREATE TABLE t (id uuid PRIMARY KEY, x uuid REFERENCES "public"."x" (id));\n',
    };
    expect(await violationsOf(seeded)).toEqual([
      'packages/inventory/migrations/0001_catalog.sql:1: a foreign key of module inventory references public.x, in another schema: no foreign key crosses schemas',
      'packages/orders/migrations/0002_fk.sql:2: a foreign key of module orders references inventory.products, in another schema: no foreign key crosses schemas',
    ]);
  });

  it("fails a migration naming another module's table", async () => {
    const seeded = { 'packages/orders/migrations/0002_view.sql': 'CREATE VIEW priced AS\n  SELECT * FROM order_items JOIN "inventory".products p ON true;\n' };
    expect(await violationsOf(seeded)).toEqual([
      "packages/orders/migrations/0002_view.sql:2: module orders names inventory.products, a table of module inventory: a module reads and writes its own schema only",
    ]);
  });

  it("fails a Kysely table name of another module's schema", async () => {
    const seeded = { 'packages/orders/src/prices.ts': "export const prices = (db: any) =>\n  db.selectFrom('inventory.products').selectAll();\n" };
    expect(await violationsOf(seeded)).toEqual([
      'packages/orders/src/prices.ts:2: module orders names inventory.products, a table of module inventory: a module reads and writes its own schema only',
    ]);
  });

  it("fails raw SQL on another module's schema in a template literal", async () => {
    const seeded = { 'packages/orders/src/raw.ts': 'export const q = (sql: any, id: string) => sql`\n  UPDATE inventory.reservations SET status = ${id}\n  WHERE order_id = ${id}`;\n' };
    expect(await violationsOf(seeded)).toEqual([
      'packages/orders/src/raw.ts:2: module orders names inventory.reservations, a table of module inventory: a module reads and writes its own schema only',
    ]);
  });

  it("fails choosing another module's schema with withSchema()", async () => {
    const seeded = { 'packages/orders/src/schema.ts': "export const q = (db: any) => db.withSchema('inventory').selectFrom('products');\n" };
    expect(await violationsOf(seeded)).toEqual([
      'packages/orders/src/schema.ts:1: module orders selects schema inventory with withSchema(): a module reads and writes its own schema only',
    ]);
  });

  it('exits 1 from the command line with one line per violation', async () => {
    const dir = await treeWith({ 'packages/inventory/src/leak.ts': "export const t = 'orders.orders';\n" });
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/sql-boundaries.ts'), dir], { cwd: root });
    await expect(run).rejects.toMatchObject({
      code: 1,
      stderr: 'packages/inventory/src/leak.ts:1: module inventory names orders.orders, a table of module orders: a module reads and writes its own schema only\n1 SQL boundary violation(s)\n',
    });
  });
});
