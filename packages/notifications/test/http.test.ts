import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderConfirmed } from '@shop/orders-contract';
import { TokenVerifier, buildHttpServer, createLogger, signToken } from '@shop/platform';
import { subscribeBrowser } from './support/browser.ts';
import { orderPayload, startNotifications, type NotificationsHarness } from './support/harness.ts';
import { notificationsRoutes } from '../src/index.ts';

const SECRET = 'notifications-http-test-secret-0123456789';
let h: NotificationsHarness;
let server: FastifyInstance;

beforeAll(async () => {
  h = await startNotifications();
  const deps = h.kit.deps('notifications');
  server = await buildHttpServer({
    logger: createLogger('silent'),
    telemetry: deps.telemetry,
    verifier: new TokenVerifier({ kind: 'hs256', secret: SECRET }),
    apiRoutes: [notificationsRoutes(h.module.api)],
    readiness: async () => ({ ready: true }),
    version: 'test',
  });
});
afterAll(async () => {
  await server?.close();
  await h?.kit.stop();
});

async function as(customerId: string, roles: string[] = []) {
  const token = await signToken(SECRET, { sub: customerId, roles });
  return (method: 'GET' | 'PUT', url: string, payload?: unknown) =>
    server.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload !== undefined ? { payload: payload as object } : {}) });
}

const validPush = () => subscribeBrowser('https://push.example.test/send/abc').subscription;

describe('contact settings over HTTP', () => {
  it('lets a customer set, read and replace its own contact', async () => {
    const me = randomUUID();
    const call = await as(me);
    expect((await call('GET', `/api/customers/${me}/contact`)).json()).toMatchObject({ status: 404, code: 'contact_not_found' });

    const push = validPush();
    const put = await call('PUT', `/api/customers/${me}/contact`, { email: 'me@example.test', push_subscription: push });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ customer_id: me, email: 'me@example.test', push_subscription: push });

    await call('PUT', `/api/customers/${me}/contact`, { email: 'new@example.test' });
    const read = await call('GET', `/api/customers/${me}/contact`);
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ email: 'new@example.test', push_subscription: null });
  });

  it("hides another customer's contact (404), and lets an admin set anyone's", async () => {
    const owner = randomUUID();
    const stranger = await as(randomUUID());
    expect((await stranger('PUT', `/api/customers/${owner}/contact`, { email: 'x@example.test' })).json()).toMatchObject({ status: 404, code: 'not_found' });
    expect((await stranger('GET', `/api/customers/${owner}/contact`)).json()).toMatchObject({ status: 404, code: 'not_found' });

    const admin = await as(randomUUID(), ['admin']);
    expect((await admin('PUT', `/api/customers/${owner}/contact`, { email: 'set-by-admin@example.test' })).statusCode).toBe(200);
    expect((await admin('GET', `/api/customers/${owner}/contact`)).json()).toMatchObject({ email: 'set-by-admin@example.test' });
  });

  it.each([
    ['a malformed email', { email: 'not-an-email' }, 'body.email'],
    ['an http:// push endpoint', { push_subscription: { ...validPush(), endpoint: 'http://push.example.test/x' } }, 'body.push_subscription.endpoint'],
    ['a p256dh that is not base64url', { push_subscription: { ...validPush(), keys: { p256dh: '!'.repeat(87), auth: validPush().keys.auth } } }, 'body.push_subscription.keys.p256dh'],
    ['a p256dh that is no P-256 point', { push_subscription: { ...validPush(), keys: { p256dh: Buffer.alloc(65, 7).toString('base64url'), auth: validPush().keys.auth } } }, 'body.push_subscription.keys.p256dh'],
    ['an auth secret of the wrong size', { push_subscription: { ...validPush(), keys: { p256dh: validPush().keys.p256dh, auth: Buffer.alloc(20, 1).toString('base64url') } } }, 'body.push_subscription.keys.auth'],
    ['a missing keys object', { push_subscription: { endpoint: 'https://push.example.test/x' } }, 'body.push_subscription.keys'],
    ['an unknown field', { email: 'a@example.test', phone: '+1555' }, 'body.phone'],
  ])('rejects %s with 400 invalid_input naming the field', async (_case, body, field) => {
    const me = randomUUID();
    const response = await (await as(me))('PUT', `/api/customers/${me}/contact`, body);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'invalid_input' });
    expect(response.json().detail).toContain(field);
  });

  it('rejects a malformed customer id and a missing token', async () => {
    const call = await as(randomUUID(), ['admin']);
    expect((await call('GET', '/api/customers/not-a-uuid/contact')).json()).toMatchObject({ status: 400, code: 'invalid_input' });
    expect((await server.inject({ method: 'GET', url: `/api/customers/${randomUUID()}/notifications` })).statusCode).toBe(401);
  });
});

describe('the notifications list over HTTP', () => {
  it('lists newest first, 20 a page, with a Link to the next page', async () => {
    const me = randomUUID();
    const orderIds: string[] = [];
    for (let i = 0; i < 23; i++) {
      const payload = orderPayload(me);
      orderIds.push(payload.order_id);
      await h.kit.scenario.publish(OrderConfirmed, payload).andWaitForStateChange(() => h.rowsOf(payload.order_id), (rows) => rows.length > 0);
    }
    const call = await as(me);
    const first = await call('GET', `/api/customers/${me}/notifications`);
    expect(first.statusCode).toBe(200);
    expect(first.headers.link).toBe(`</api/customers/${me}/notifications?page=1>; rel="next"`);
    const firstPage = first.json() as { order_id: string; id: string }[];
    expect(firstPage).toHaveLength(20);
    expect(firstPage[0]).toMatchObject({ customer_id: me, channel: 'none', kind: 'order_confirmed', status: 'skipped', order_id: orderIds[22], attempts: 0 });
    expect(Object.keys(firstPage[0]!).sort()).toEqual(['attempts', 'channel', 'created_at', 'customer_id', 'detail', 'id', 'kind', 'order_id', 'status']);

    const second = await call('GET', `/api/customers/${me}/notifications?page=1`);
    expect(second.headers.link).toBeUndefined();
    expect((second.json() as { order_id: string }[]).map((n) => n.order_id)).toEqual([orderIds[2], orderIds[1], orderIds[0]]);

    expect((await (await as(randomUUID()))('GET', `/api/customers/${me}/notifications`)).statusCode).toBe(404);
    expect((await call('GET', `/api/customers/${me}/notifications?page=-1`)).json()).toMatchObject({ status: 400, code: 'invalid_input' });
    expect((await call('GET', `/api/customers/${randomUUID()}/notifications`)).statusCode).toBe(404);
  });
});
