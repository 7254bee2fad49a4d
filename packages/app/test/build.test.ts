import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signToken } from '@shop/platform';
import { createTestDatabase, eventually, type TestDatabase } from '@shop/platform/testing';
import { ADMIN_ID, TEST_SECRET } from './harness.ts';
import { REPO_ROOT, call, startServer, type ServerProcess } from './process.ts';

/**
 * `npm start` runs the build (`npm run build` → packages/app/dist/main.js), not the sources under
 * tsx: what the bundle could break (each module finding its migrations next to its sources, a
 * dependency nested under a workspace, CommonJS packages imported from plain Node ESM) must work
 * in it. The other process tests run the sources; this one runs what users run.
 */
describe('the build that npm start runs', () => {
  let database: TestDatabase;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    await promisify(execFile)('npm', ['run', 'build', '--silent'], { cwd: REPO_ROOT });
    database = await createTestDatabase(inject('pgAdminUrl'));
  }, 120_000);

  afterAll(async () => {
    await server?.stop('SIGKILL');
    await database?.drop();
  });

  it('migrates, serves the saga, validates input and stops cleanly', async () => {
    server = await startServer(
      { DATABASE_URL: database.url, AUTH_JWT_SECRET: TEST_SECRET, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
      { entry: 'built' },
    );
    expect(server.invocation.args.at(-1)).toMatch(/packages\/app\/dist\/main\.js$/);
    expect((await call(server.url, 'GET', '/ready')).status).toBe(200);

    const admin = await signToken(TEST_SECRET, { sub: ADMIN_ID, roles: ['admin'] });
    const product = await call(server.url, 'POST', '/api/products', { token: admin, body: { sku: `BUILT-${randomUUID()}`, name: 'Built', price_cents: 300, stock_quantity: 5 } });
    expect(product.status).toBe(201);
    const token = await signToken(TEST_SECRET, { sub: randomUUID(), roles: [] });
    const order = await call(server.url, 'POST', '/api/orders', { token, body: { items: [{ product_id: product.body.id, quantity: 2 }], idempotency_key: 'built-1' } });
    expect(order.status).toBe(201);
    expect(order.body.total_cents).toBe(600);
    await eventually(async () => {
      const after = await call(server!.url, 'GET', `/api/products/${product.body.id}`, { token: admin });
      expect(after.body.reserved_quantity).toBe(2);
    });

    // Validation (Ajv, loaded from the platform's own node_modules) answers as it does under tsx.
    const bad = await call(server.url, 'POST', '/api/orders', { token, body: { items: [{ product_id: 'not-a-uuid', quantity: 1 }], idempotency_key: 'built-2' } });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('invalid_input');
    expect(bad.body.detail).toContain('product_id');

    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
