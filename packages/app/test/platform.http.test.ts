import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@shop/platform/testing';
import { ADMIN_ID, TEST_SECRET, startTestApp, type TestApp } from './harness.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function sign(secret: string, claims: { sub: string; roles?: string[] }, expiresAt: number | string = '1h') {
  return new SignJWT({ roles: claims.roles ?? [] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt(typeof expiresAt === 'number' ? expiresAt - 3600 : undefined)
    .setExpirationTime(expiresAt)
    .sign(new TextEncoder().encode(secret));
}

describe('platform routes', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  it('GET /health answers 200 without a token', async () => {
    const res = await t.call('GET', '/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('GET /ready answers 200 {status: "ready"} once migrated and connected', async () => {
    const res = await t.call('GET', '/ready');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready' });
  });

  it('GET /metrics is Prometheus text with per-route HTTP counts and module call counts', async () => {
    const product = await t.call('POST', '/api/products', { token: t.adminToken, body: { sku: 'METRICS-1', name: 'm', price_cents: 10, stock_quantity: 5 } });
    expect(product.status).toBe(201);
    const customer = randomUUID();
    const order = await t.call('POST', '/api/orders', {
      token: await t.tokenFor(customer),
      body: { items: [{ product_id: product.body.id, quantity: 1 }], idempotency_key: 'metrics' },
    });
    expect(order.status).toBe(201);
    expect((await t.call('GET', `/api/orders/${order.body.id}`, { token: t.adminToken })).status).toBe(200);
    expect((await t.call('GET', `/api/orders/${randomUUID()}`, { token: t.adminToken })).status).toBe(404);

    const res = await fetch(`${t.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain('# TYPE http_requests_total counter');
    // The route template, not the concrete path: one series per route, not per id.
    expect(text).toMatch(/^http_requests_total\{[^}]*route="\/api\/orders\/:id"[^}]*status="200"[^}]*\} 1$/m);
    expect(text).toMatch(/^http_requests_total\{[^}]*route="\/api\/orders\/:id"[^}]*status="404"[^}]*\} 1$/m);
    expect(text).toMatch(/^http_requests_total\{method="POST",route="\/api\/orders",status="201"\} 1$/m);
    expect(text).not.toContain(order.body.id);
    expect(text).toMatch(/^module_calls_total\{module="orders",method="createOrder",outcome="ok"\} 1$/m);
    expect(text).toMatch(/^module_calls_total\{module="orders",method="getOrder",outcome="order_not_found"\} 1$/m);
    expect(text).toMatch(/^module_calls_total\{module="inventory",method="createProduct",outcome="ok"\} 1$/m);
    expect(text).toMatch(/^http_request_duration_seconds_bucket\{/m);
  });

  it('GET /openapi.json is an OpenAPI 3.1 document listing the orders and products paths', async () => {
    const res = await t.call('GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\.1\./);
    expect(res.body.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    const paths = Object.keys(res.body.paths);
    for (const path of [
      '/api/orders',
      '/api/orders/{id}',
      '/api/orders/{id}/cancel',
      '/api/orders/{id}/ship',
      '/api/orders/{id}/deliver',
      '/api/customers/{customer_id}/orders',
      '/api/products',
      '/api/products/{id}',
      '/api/products/{id}/stock',
      '/api/reservations',
    ]) {
      expect(paths, path).toContain(path);
    }
    expect(Object.keys(res.body.paths['/api/orders'])).toContain('post');
    expect(Object.keys(res.body.paths['/api/products'])).toEqual(expect.arrayContaining(['get', 'post']));
    expect(res.body.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    // The probes are documented (tag platform: every listener answers them); the operations
    // routes (served only by the admin listener with ADMIN_PORT) and /internal are not.
    expect(paths).toEqual(expect.arrayContaining(['/health', '/ready']));
    for (const hidden of ['/metrics', '/openapi.json', '/docs']) expect(paths).not.toContain(hidden);
    expect(paths.filter((path) => path.startsWith('/internal'))).toEqual([]);
  });

  it('GET /docs answers 200 with the viewer (following any redirect)', async () => {
    const res = await fetch(`${t.url}/docs`, { redirect: 'follow' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toMatch(/swagger/i);
  });

  describe('request ids', () => {
    it('echoes the x-request-id it was sent', async () => {
      const id = `trace-${randomUUID()}`;
      const res = await t.call('GET', '/health', { headers: { 'x-request-id': id } });
      expect(res.headers.get('x-request-id')).toBe(id);
      const api = await t.call('GET', '/api/products', { token: t.adminToken, headers: { 'x-request-id': id } });
      expect(api.headers.get('x-request-id')).toBe(id);
      const failed = await t.call('GET', `/api/products/${randomUUID()}`, { token: t.adminToken, headers: { 'x-request-id': id } });
      expect(failed.status).toBe(404);
      expect(failed.headers.get('x-request-id')).toBe(id);
      // Answers that no route gives: an unknown path, a path the router cannot decode.
      for (const path of ['/no/such/path', '/api/products/%E0%A4%A']) {
        const res = await t.call('GET', path, { token: t.adminToken, headers: { 'x-request-id': id } });
        expect([404, 400]).toContain(res.status);
        expect(res.headers.get('x-request-id')).toBe(id);
      }
    });

    it('generates one when none is sent, a new one each time', async () => {
      const a = await t.call('GET', '/health');
      const b = await t.call('GET', '/health');
      expect(a.headers.get('x-request-id')).toMatch(UUID);
      expect(b.headers.get('x-request-id')).toMatch(UUID);
      expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
      const unauthorized = await t.call('GET', '/api/products');
      expect(unauthorized.status).toBe(401);
      expect(unauthorized.headers.get('x-request-id')).toMatch(UUID);
    });

    it('replaces an unsafe x-request-id with a generated one', async () => {
      const res = await t.call('GET', '/health', { headers: { 'x-request-id': 'bad id with spaces <script>' } });
      expect(res.headers.get('x-request-id')).toMatch(UUID);
    });
  });

  describe('authentication', () => {
    it('accepts a valid token signed with the secret', async () => {
      const token = await sign(TEST_SECRET, { sub: ADMIN_ID, roles: ['admin'] });
      expect((await t.call('GET', '/api/products', { token })).status).toBe(200);
    });

    it('refuses an expired token: 401', async () => {
      const token = await sign(TEST_SECRET, { sub: ADMIN_ID, roles: ['admin'] }, Math.floor(Date.now() / 1000) - 120);
      const res = await t.call('GET', '/api/products', { token });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body.code).toBe('unauthorized');
    });

    it('refuses a token signed with another secret: 401', async () => {
      const token = await sign('another-secret-another-secret-another-0123', { sub: ADMIN_ID, roles: ['admin'] });
      const res = await t.call('GET', '/api/products', { token });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('unauthorized');
      const order = await t.call('POST', '/api/orders', { token, body: { items: [{ product_id: randomUUID(), quantity: 1 }], idempotency_key: 'x' } });
      expect(order.status).toBe(401);
    });

    it('refuses a token without a UUID subject, an unsigned token, and garbage: 401', async () => {
      const noUuid = await sign(TEST_SECRET, { sub: 'alice', roles: ['admin'] });
      expect((await t.call('GET', '/api/products', { token: noUuid })).status).toBe(401);
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      const payload = Buffer.from(JSON.stringify({ sub: ADMIN_ID, roles: ['admin'], exp: Math.floor(Date.now() / 1000) + 3600 })).toString('base64url');
      expect((await t.call('GET', '/api/products', { token: `${header}.${payload}.` })).status).toBe(401);
      expect((await t.call('GET', '/api/products', { token: 'garbage' })).status).toBe(401);
      expect((await t.call('GET', '/api/products', { headers: { authorization: 'Bearer' } })).status).toBe(401);
    });
  });

  describe('admin outbox', () => {
    it('GET /api/admin/outbox?status=failed: 200 array for an admin, 403 for a customer', async () => {
      const res = await t.call('GET', '/api/admin/outbox?status=failed', { token: t.adminToken });
      expect(res.status).toBe(200);
      expect(Array.isArray(res.body)).toBe(true);
      expect(res.body).toEqual([]);

      const customer = await t.call('GET', '/api/admin/outbox?status=failed', { token: await t.tokenFor(randomUUID()) });
      expect(customer.status).toBe(403);
      expect(customer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(customer.body.code).toBe('forbidden');

      expect((await t.call('GET', '/api/admin/outbox?status=failed')).status).toBe(401);
    });

    it('lists delivered events across modules for an admin', async () => {
      const product = await t.call('POST', '/api/products', { token: t.adminToken, body: { sku: 'OUTBOX-1', name: 'o', price_cents: 10, stock_quantity: 5 } });
      const order = await t.call('POST', '/api/orders', {
        token: await t.tokenFor(randomUUID()),
        body: { items: [{ product_id: product.body.id, quantity: 1 }], idempotency_key: 'outbox' },
      });
      expect(order.status).toBe(201);
      await eventually(async () => {
        const res = await t.call('GET', '/api/admin/outbox?status=delivered', { token: t.adminToken });
        expect(res.status).toBe(200);
        const mine = res.body.filter((e: any) => e.payload?.order_id === order.body.id);
        expect(mine.map((e: any) => `${e.module}:${e.event_type}`).sort()).toEqual(['inventory:StockReserved', 'orders:OrderCreated']);
        for (const event of mine) expect(event).toMatchObject({ id: expect.stringMatching(UUID), status: 'delivered', attempts: expect.any(Number), last_error: null });
      });
    });

    it('retrying an event that is not failed answers 404', async () => {
      const res = await t.call('POST', `/api/admin/outbox/orders/${randomUUID()}/retry`, { token: t.adminToken });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('not_found');
      const customer = await t.call('POST', `/api/admin/outbox/orders/${randomUUID()}/retry`, { token: await t.tokenFor(randomUUID()) });
      expect(customer.status).toBe(403);
    });
  });
});
