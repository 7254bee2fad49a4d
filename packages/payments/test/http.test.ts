import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Telemetry, TokenVerifier, buildHttpServer, createLogger, signToken } from '@shop/platform';
import { startPaymentsHarness, type PaymentsHarness } from './support/harness.ts';
import { paymentsRoutes } from '../src/index.ts';

const SECRET = 'payments-http-test-secret-at-least-32-chars';

describe('payments over HTTP', () => {
  let h: PaymentsHarness;
  let server: FastifyInstance;
  beforeAll(async () => {
    h = await startPaymentsHarness('test');
    server = await buildHttpServer({
      logger: createLogger('silent'),
      telemetry: new Telemetry(),
      verifier: new TokenVerifier({ kind: 'hs256', secret: SECRET }),
      apiRoutes: [paymentsRoutes(h.module.api, h.orders)],
      readiness: async () => ({ ready: true }),
      version: 'test',
    });
  });
  afterAll(async () => {
    await server?.close();
    await h?.stop();
  });

  const tokenFor = (sub: string, roles: string[] = []) => signToken(SECRET, { sub, roles });
  async function call(method: 'GET' | 'POST', url: string, options: { token: string; body?: object; headers?: Record<string, string> }) {
    const res = await server.inject({ method, url, payload: options.body, headers: { authorization: `Bearer ${options.token}`, ...options.headers } });
    return { status: res.statusCode, body: res.json(), type: res.headers['content-type'] };
  }
  const customerOrder = async (total_cents = 2_500) => {
    const customer = randomUUID();
    return { order: h.orders.add({ customer_id: customer, total_cents }), token: await tokenFor(customer) };
  };

  it('pays with 201, answers a retry with 200 and the same body (key in the body or the header)', async () => {
    const { order, token } = await customerOrder();
    const key = randomUUID();
    const first = await call('POST', '/api/payments', { token, body: { order_id: order.id, payment_method: 'pm_card_visa' }, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ order_id: order.id, amount_cents: 2_500, status: 'captured', failure_reason: null, provider_ref: expect.stringMatching(/^pi_test_/) });
    const again = await call('POST', '/api/payments', { token, body: { order_id: order.id, payment_method: 'pm_card_visa', idempotency_key: key } });
    expect([again.status, again.body]).toEqual([200, first.body]);
  });

  it('needs an idempotency key: 400 invalid_input naming body.idempotency_key', async () => {
    const { order, token } = await customerOrder();
    const res = await call('POST', '/api/payments', { token, body: { order_id: order.id, payment_method: 'pm_card_visa' } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalid_input', errors: [{ field: 'body.idempotency_key' }] });
  });

  it('answers a decline with 402 problem+json naming the kept payment', async () => {
    const { order, token } = await customerOrder();
    const res = await call('POST', '/api/payments', { token, body: { order_id: order.id, payment_method: 'pm_card_chargeDeclined', idempotency_key: randomUUID() } });
    expect(res.status).toBe(402);
    expect(res.type).toContain('application/problem+json');
    expect(res.body).toMatchObject({ code: 'payment_declined', failure_reason: 'card_declined', payment_id: expect.any(String) });
    const listed = await call('GET', `/api/payments?order_id=${order.id}`, { token });
    expect(listed.body).toEqual([expect.objectContaining({ id: res.body.payment_id, status: 'failed' })]);
  });

  it('answers 503 with the pending payment id when the provider is unreachable', async () => {
    const { order, token } = await customerOrder();
    h.provider.outage(1);
    const res = await call('POST', '/api/payments', { token, body: { order_id: order.id, payment_method: 'pm_card_visa', idempotency_key: randomUUID() } });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'payment_provider_unavailable', payment_id: expect.any(String) });
  });

  it("hides another customer's order and payments exactly as missing ones", async () => {
    const { order, token } = await customerOrder();
    const paid = await call('POST', '/api/payments', { token, body: { order_id: order.id, payment_method: 'pm_card_visa', idempotency_key: randomUUID() } });
    const stranger = await tokenFor(randomUUID());
    const theirs = await call('POST', '/api/payments', { token: stranger, body: { order_id: order.id, payment_method: 'pm_card_visa', idempotency_key: randomUUID() } });
    const missingId = randomUUID();
    const missing = await call('POST', '/api/payments', { token: stranger, body: { order_id: missingId, payment_method: 'pm_card_visa', idempotency_key: randomUUID() } });
    expect([theirs.status, theirs.body.code]).toEqual([404, 'order_not_found']);
    expect([missing.status, missing.body.code]).toEqual([404, 'order_not_found']);
    expect(theirs.body.detail).toBe(missing.body.detail.replace(missingId, order.id));

    expect((await call('GET', `/api/payments/${paid.body.id}`, { token: stranger })).body.code).toBe('payment_not_found');
    expect((await call('GET', `/api/payments?order_id=${order.id}`, { token: stranger })).status).toBe(404);
    expect((await call('GET', `/api/payments/${paid.body.id}`, { token })).body).toEqual(paid.body);
    const admin = await tokenFor(randomUUID(), ['admin']);
    expect((await call('GET', `/api/payments/${paid.body.id}`, { token: admin })).body).toEqual(paid.body);
    expect((await call('GET', `/api/payments?order_id=${order.id}`, { token: admin })).body).toEqual([paid.body]);
  });

  it('rejects malformed input with 400 naming the field', async () => {
    const { order, token } = await customerOrder();
    const bad = await call('POST', '/api/payments', { token, body: { order_id: 'nope', payment_method: 'pm_card_visa', idempotency_key: 'k' } });
    expect(bad.body).toMatchObject({ code: 'invalid_input', errors: [expect.objectContaining({ field: 'body.order_id' })] });
    const extra = await call('POST', '/api/payments', { token, body: { order_id: order.id, payment_method: 'pm_card_visa', idempotency_key: 'k', amount_cents: 1 } });
    expect(extra.body).toMatchObject({ code: 'invalid_input', errors: [expect.objectContaining({ field: 'body.amount_cents' })] });
    expect((await call('GET', '/api/payments/not-a-uuid', { token })).status).toBe(400);
    expect((await call('GET', '/api/payments', { token })).status).toBe(400);
  });
});
