import { randomUUID } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signToken } from '@shop/platform';
import { createTestDatabase, eventually, type TestDatabase } from '@shop/platform/testing';
import { ADMIN_ID, TEST_SECRET } from './harness.ts';
import { call, runToExit, startServer, type ServerProcess } from './process.ts';

describe('bad configuration stops the process at start with one clear line', () => {
  const cases: Array<{ name: string; env: Record<string, string | undefined>; names: string; hides?: string }> = [
    { name: 'a port that is not a number', env: { PORT: 'abc' }, names: 'PORT' },
    { name: 'an unknown log level', env: { LOG_LEVEL: 'loud' }, names: 'LOG_LEVEL' },
    { name: 'a database URL that is not PostgreSQL', env: { DATABASE_URL: 'mysql://x' }, names: 'DATABASE_URL' },
    { name: 'a database URL with a password, which is not echoed', env: { DATABASE_URL: 'mysql://shop:hunter2@db/shop' }, names: 'DATABASE_URL', hides: 'hunter2' },
    { name: 'an unknown module', env: { MODULES: 'orders,billing' }, names: 'MODULES' },
    { name: 'a module hosted nowhere', env: { MODULES: 'orders' }, names: 'MODULES' },
    { name: 'production without a token secret', env: { NODE_ENV: 'production', AUTH_JWT_SECRET: undefined }, names: 'AUTH_JWT_SECRET' },
    { name: 'a short token secret', env: { AUTH_JWT_SECRET: 'short' }, names: 'AUTH_JWT_SECRET' },
    { name: 'a shutdown timeout out of range', env: { SHUTDOWN_TIMEOUT_MS: '5' }, names: 'SHUTDOWN_TIMEOUT_MS' },
    { name: 'a drain as long as the shutdown timeout', env: { SHUTDOWN_DRAIN_MS: '10000' }, names: 'SHUTDOWN_DRAIN_MS' },
    {
      name: 'production without a database (the embedded one would keep its data under DATA_DIR)',
      env: { NODE_ENV: 'production', DATABASE_URL: undefined, AUTH_JWT_SECRET: TEST_SECRET, PAYMENT_PROVIDER: 'test' },
      names: 'DATABASE_URL',
    },
    { name: 'EMBEDDED_POSTGRES=off without a database', env: { DATABASE_URL: undefined, EMBEDDED_POSTGRES: 'off' }, names: 'DATABASE_URL' },
    { name: 'an EMBEDDED_POSTGRES that is neither on nor off', env: { DATABASE_URL: undefined, EMBEDDED_POSTGRES: 'yes' }, names: 'EMBEDDED_POSTGRES' },
    { name: 'an admin port out of range', env: { ADMIN_PORT: '70000' }, names: 'ADMIN_PORT' },
    { name: 'an admin port that is the public one', env: { PORT: '8081', ADMIN_PORT: '8081' }, names: 'ADMIN_PORT' },
  ];

  it.concurrent.each(cases)('$name', async ({ env, names, hides }) => {
    // An unreachable DATABASE_URL unless the case sets one: config must fail before any connection.
    const result = await runToExit({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', PORT: '0', ...env });
    expect(result.code).toBe(1);
    const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
    expect(lines, result.stderr).toHaveLength(1);
    expect(result.stderr.endsWith('\n')).toBe(true);
    expect(lines[0]).toContain(names);
    expect(lines[0]).not.toMatch(/^\s+at |\bat .*\.ts:\d+|Error:/);
    if (hides) expect(result.stderr + result.stdout).not.toContain(hides);
    expect(result.stdout).toBe('');
  });

  it('names DATABASE_URL and EMBEDDED_POSTGRES when production has no database', async () => {
    const result = await runToExit({ NODE_ENV: 'production', DATABASE_URL: undefined, AUTH_JWT_SECRET: TEST_SECRET, PAYMENT_PROVIDER: 'test', PORT: '0' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'configuration error: DATABASE_URL is required when NODE_ENV=production (the embedded PostgreSQL would keep the data under DATA_DIR; set EMBEDDED_POSTGRES=on if that is meant)\n',
    );
  });

  it('an unreachable database stops it with one line too', async () => {
    const result = await runToExit({ DATABASE_URL: 'postgres://shop:hunter2@127.0.0.1:1/none', PORT: '0', AUTH_JWT_SECRET: TEST_SECRET });
    expect(result.code).toBe(1);
    const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^could not start: .*ECONNREFUSED/);
    expect(result.stderr + result.stdout).not.toContain('hunter2');
  });
});

interface Answer {
  status?: number;
  body?: any;
  error?: string;
}

/**
 * POST over a fresh connection (no keep-alive, so no idle-socket race): either a complete answer
 * or the connection error. With `hold`, the headers and half the body go out at once and the
 * rest only when `hold` resolves: a request the server has surely started receiving.
 */
function post(url: string, route: string, token: string, payload: unknown, hold?: Promise<void>): { sent: Promise<void>; answer: Promise<Answer> } {
  const body = Buffer.from(JSON.stringify(payload));
  let markSent!: () => void;
  const sent = new Promise<void>((resolve) => (markSent = resolve));
  const answer = new Promise<Answer>((resolve) => {
    const request = http.request(url + route, {
      method: 'POST',
      agent: false,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': body.length },
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      markSent();
      resolve({ error: error.code ?? error.message });
    });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', (error: NodeJS.ErrnoException) => resolve({ status: response.statusCode, error: error.code ?? error.message }));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: response.statusCode, body: JSON.parse(text) });
        } catch {
          resolve({ status: response.statusCode, error: `incomplete body: ${text}` });
        }
      });
    });
    if (hold) {
      const half = Math.floor(body.length / 2);
      request.write(body.subarray(0, half), () => markSent());
      void hold.then(() => request.end(body.subarray(half)));
    } else {
      request.end(body, () => markSent());
    }
  });
  return { sent, answer };
}

describe('SIGTERM drains: requests under way get their answers, then the process exits 0', () => {
  let database: TestDatabase;
  let client: pg.Client;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    database = await createTestDatabase(inject('pgAdminUrl'));
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await client?.end();
    await database?.drop();
  });

  it('answers every request it had received and leaves no event undelivered', { timeout: 60_000 }, async () => {
    const shutdownTimeoutMs = 8_000;
    server = await startServer({
      DATABASE_URL: database.url,
      AUTH_JWT_SECRET: TEST_SECRET,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs),
    });
    const url = server.url;
    const adminToken = await signToken(TEST_SECRET, { sub: ADMIN_ID, roles: ['admin'] });
    const product = await call(url, 'POST', '/api/products', {
      token: adminToken,
      body: { sku: 'DRAIN-1', name: 'Drain', price_cents: 250, stock_quantity: 100_000 },
    });
    expect(product.status).toBe(201);
    const token = await signToken(TEST_SECRET, { sub: randomUUID() });
    const order = (key: string) => ({ items: [{ product_id: product.body.id, quantity: 1 }], idempotency_key: key });

    // Requests surely under way: headers and half a body received when SIGTERM arrives.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow = Array.from({ length: 4 }, (_, i) => post(url, '/api/orders', token, order(`held-${i}`), held));
    await Promise.all(slow.map((request) => request.sent));

    // A slow burst around the signal.
    const burst: Array<{ key: string; answer: Promise<Answer> }> = [];
    let stopping = false;
    const worker = async (w: number) => {
      for (let n = 0; ; n += 1) {
        const key = `burst-${w}-${n}`;
        const { answer } = post(url, '/api/orders', token, order(key));
        burst.push({ key, answer });
        const result = await answer;
        if (result.error && stopping) return; // refused: the server no longer listens
        await new Promise((resolve) => setTimeout(resolve, 20));
        if (stopping && burst.length > 400) return;
      }
    };
    const workers = Array.from({ length: 3 }, (_, w) => worker(w));
    await new Promise((resolve) => setTimeout(resolve, 500));

    const signalledAt = Date.now();
    server.child.kill('SIGTERM');
    stopping = true;
    await eventually(() => expect(server!.logs().some((entry) => entry.msg === 'shutting down')).toBe(true), 5_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // It is still draining: the held requests keep it alive.
    expect(server.child.exitCode).toBeNull();
    release();

    const slowAnswers = await Promise.all(slow.map((request) => request.answer));
    for (const answer of slowAnswers) {
      expect(answer.error, JSON.stringify(answer)).toBeUndefined();
      expect(answer.status).toBe(201);
      expect(answer.body).toMatchObject({ status: 'pending', total_cents: 250 });
    }
    await Promise.all(workers);
    const exit = await server.exited;
    const tookMs = Date.now() - signalledAt;
    expect(exit, server.stdout() + server.stderr()).toEqual({ code: 0, signal: null });
    expect(tookMs).toBeLessThan(shutdownTimeoutMs);
    expect(server.logs().some((entry) => entry.msg === 'stopped')).toBe(true);
    expect(server.stderr()).toBe('');

    // Each burst request got a complete answer, or none at all (refused); no answer was cut short.
    const burstAnswers = await Promise.all(burst.map(async ({ key, answer }) => ({ key, ...(await answer) })));
    const beforeSignal = burstAnswers.filter((answer) => answer.status !== undefined);
    expect(beforeSignal.length).toBeGreaterThan(0);
    for (const answer of burstAnswers) {
      if (answer.status !== undefined) {
        expect(answer.error, JSON.stringify(answer)).toBeUndefined();
        expect([201, 503]).toContain(answer.status);
      } else {
        expect(['ECONNREFUSED', 'ECONNRESET'], JSON.stringify(answer)).toContain(answer.error);
      }
    }

    // Every order in the database was acknowledged to its client: none was made and then cut off.
    const acknowledged = new Set([...slowAnswers, ...burstAnswers].filter((answer) => answer.status === 201).map((answer) => answer.body.id as string));
    const { rows } = await client.query<{ id: string }>('SELECT id FROM orders.orders');
    expect(new Set(rows.map((row) => row.id))).toEqual(acknowledged);

    // A clean stop delivers what it committed: nothing pending in either outbox, every order reserved.
    const pending = await client.query(`
      SELECT 'orders' AS module, count(*)::int AS n FROM orders.outbox WHERE status <> 'delivered'
      UNION ALL SELECT 'inventory', count(*)::int FROM inventory.outbox WHERE status <> 'delivered'`);
    expect(pending.rows).toEqual([
      { module: 'orders', n: 0 },
      { module: 'inventory', n: 0 },
    ]);
    const reserved = await client.query('SELECT reserved_quantity FROM inventory.products WHERE id = $1', [product.body.id]);
    expect(reserved.rows[0].reserved_quantity).toBe(rows.length);
  });
});

describe('SIGTERM with SHUTDOWN_DRAIN_MS: /ready answers 503 first, while every request is still served', () => {
  let database: TestDatabase;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    database = await createTestDatabase(inject('pgAdminUrl'));
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await database?.drop();
  });

  it('drains, closing each connection after its answer, then stops listening and exits 0', { timeout: 60_000 }, async () => {
    const drainMs = 1_500;
    server = await startServer({ DATABASE_URL: database.url, AUTH_JWT_SECRET: TEST_SECRET, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SHUTDOWN_DRAIN_MS: String(drainMs) });
    const url = server.url;
    const adminToken = await signToken(TEST_SECRET, { sub: ADMIN_ID, roles: ['admin'] });
    const before = await call(url, 'GET', '/ready');
    expect(before.status).toBe(200);
    expect(before.headers.get('connection')).not.toBe('close');

    const signalledAt = Date.now();
    server.child.kill('SIGTERM');
    await eventually(() => expect(server!.logs().some((entry) => entry.msg === 'draining: /ready answers 503, still serving')).toBe(true), 5_000, 10);
    const ready = await call(url, 'GET', '/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ code: 'service_unavailable', detail: 'shutting down' });
    // Everything else is served as usual, each answer telling the client not to reuse the connection.
    const created = await call(url, 'POST', '/api/products', { token: adminToken, body: { sku: 'DRAINING-1', name: 'Drain', price_cents: 100, stock_quantity: 1 } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.headers.get('connection')).toBe('close');
    expect((await call(url, 'GET', `/api/products/${created.body.id}`, { token: adminToken })).status).toBe(200);
    expect(server.child.exitCode).toBeNull();

    const exit = await server.exited;
    expect(exit, server.stdout() + server.stderr()).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(drainMs);
    expect(server.stderr()).toBe('');
  });
});

describe('production on the embedded PostgreSQL, on purpose (EMBEDDED_POSTGRES=on)', () => {
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.stop('SIGKILL');
  });

  it('starts, serves, and stops cleanly', { timeout: 90_000 }, async () => {
    server = await startServer(
      { NODE_ENV: 'production', DATABASE_URL: undefined, EMBEDDED_POSTGRES: 'on', AUTH_JWT_SECRET: TEST_SECRET, PAYMENT_PROVIDER: 'test', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SHUTDOWN_DRAIN_MS: '0' },
      { timeoutMs: 80_000 },
    );
    expect((await call(server.url, 'GET', '/ready')).status).toBe(200);
    const exit = await server.stop('SIGTERM');
    expect(exit, server.stdout() + server.stderr()).toEqual({ code: 0, signal: null });
    expect(server.stderr()).toBe('');
  });
});

/** A port free right now on the loopback. */
async function freePort(): Promise<number> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('ADMIN_PORT: /metrics, /docs, /openapi.json and the console on a listener of their own', () => {
  let database: TestDatabase;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    database = await createTestDatabase(inject('pgAdminUrl'));
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await database?.drop();
  });

  it('serves them on the admin port only, the API on the public one, and closes both at stop', { timeout: 60_000 }, async () => {
    const adminPort = await freePort();
    server = await startServer({ DATABASE_URL: database.url, AUTH_JWT_SECRET: TEST_SECRET, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ADMIN_PORT: String(adminPort) });
    const publicUrl = server.url;
    const adminUrl = `http://127.0.0.1:${adminPort}`;
    expect(server.logs().find((entry) => entry.msg === 'shop is serving')).toMatchObject({ docs: `http://localhost:${adminPort}/docs` });

    for (const route of ['/metrics', '/openapi.json', '/docs', '/docs/json', '/admin', '/admin/console.js']) {
      const hidden = await call(publicUrl, 'GET', route);
      expect(hidden.status, route).toBe(404);
      expect(hidden.headers.get('content-type'), route).toContain('application/problem+json');
      expect(hidden.body, route).toMatchObject({ code: 'not_found' });
    }
    const metrics = await call(adminUrl, 'GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('http_request');
    const openapi = await call(adminUrl, 'GET', '/openapi.json');
    expect(openapi.status).toBe(200);
    expect(Object.keys(openapi.body.paths)).toContain('/api/orders');
    // Its servers (and the viewer's, for "Try it out") name the public port, where the API is.
    expect(openapi.body.servers).toEqual([expect.objectContaining({ url: publicUrl })]);
    const viewerDocument = await call(adminUrl, 'GET', '/docs/json');
    expect(viewerDocument.status).toBe(200);
    expect(viewerDocument.body.servers).toEqual([expect.objectContaining({ url: publicUrl })]);
    expect((await call(adminUrl, 'GET', '/health')).status).toBe(200);
    expect((await call(adminUrl, 'GET', '/ready')).status).toBe(200);
    // The console, and the admin JSON API it calls (same origin; an admin token still required).
    for (const route of ['/admin', '/admin/console.js', '/admin/console.css']) expect((await fetch(`${adminUrl}${route}`)).status, route).toBe(200);
    const consoleToken = await signToken(TEST_SECRET, { sub: ADMIN_ID, roles: ['admin'] });
    expect((await call(adminUrl, 'GET', '/api/admin/topology', { token: consoleToken })).status).toBe(200);
    expect((await call(adminUrl, 'GET', '/api/admin/topology')).status).toBe(401);
    // Nothing else on the admin port.
    expect((await call(adminUrl, 'GET', '/api/products')).status).toBe(404);

    // The public port serves the API and the probes as before.
    const adminToken = await signToken(TEST_SECRET, { sub: ADMIN_ID, roles: ['admin'] });
    const created = await call(publicUrl, 'POST', '/api/products', { token: adminToken, body: { sku: 'ADMIN-PORT-1', name: 'Mug', price_cents: 100, stock_quantity: 1 } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await call(publicUrl, 'GET', `/api/products/${created.body.id}`, { token: adminToken })).status).toBe(200);
    expect((await call(publicUrl, 'GET', '/ready')).status).toBe(200);

    const exit = await server.stop('SIGTERM');
    expect(exit, server.stdout() + server.stderr()).toEqual({ code: 0, signal: null });
    expect(server.stderr()).toBe('');
    await expect(call(adminUrl, 'GET', '/health')).rejects.toThrow();
  });
});
