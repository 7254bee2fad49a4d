import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, eventually, type TestDatabase } from '@shop/platform/testing';
import { signToken } from '@shop/platform';
import { TEST_SECRET } from './harness.ts';
import { call, startServer, type ServerProcess } from './process.ts';

/** ACCESS_LOG: a line per request when on, none when off (the default). */
describe('the access log', () => {
  let database: TestDatabase;
  const servers: ServerProcess[] = [];
  beforeAll(async () => {
    database = await createTestDatabase(inject('pgAdminUrl'));
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop('SIGKILL')));
    await database?.drop();
  });

  const start = async (env: Record<string, string>) => {
    const server = await startServer({ DATABASE_URL: database.url, AUTH_JWT_SECRET: TEST_SECRET, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env });
    servers.push(server);
    return server;
  };
  const requestLines = (server: ServerProcess) => server.logs().filter((entry) => entry.msg === 'request');

  it('on: one line per request with method, route, path, status, duration, request id and trace id', async () => {
    const server = await start({ ACCESS_LOG: 'on' });
    const token = await signToken(TEST_SECRET, { sub: randomUUID(), roles: [] });
    const traceId = 'a'.repeat(31) + '1';
    const missing = randomUUID();
    const res = await call(server.url, 'GET', `/api/orders/${missing}?page=1`, { token, headers: { 'x-request-id': 'access-1', traceparent: `00-${traceId}-${'b'.repeat(16)}-01` } });
    expect(res.status).toBe(404);
    const line = await eventually(() => {
      const found = requestLines(server).find((entry) => entry.request_id === 'access-1');
      expect(found).toBeDefined();
      return found!;
    });
    expect(line).toMatchObject({ level: 30, method: 'GET', route: '/api/orders/:id', path: `/api/orders/${missing}`, status: 404, request_id: 'access-1', trace_id: traceId });
    expect(line.duration_ms).toBeGreaterThanOrEqual(0);
    await call(server.url, 'GET', '/health');
    await eventually(() => expect(requestLines(server).some((entry) => entry.route === '/health' && entry.status === 200)).toBe(true));
  });

  it('off by default: no request lines', async () => {
    const server = await start({});
    expect((await call(server.url, 'GET', '/health')).status).toBe(200);
    expect((await call(server.url, 'GET', '/api/products')).status).toBe(401);
    expect(requestLines(server)).toEqual([]);
  });
});
