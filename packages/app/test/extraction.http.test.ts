import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceCredential, readTraffic, writeSnapshot } from '@shop/distribution';
import { eventually } from '@shop/platform/testing';
import { MODULE_NAMES } from '../src/topology-config.ts';
import { startTestApp, type TestApp } from './harness.ts';

const SERVICE_SECRET = 'extraction-test-service-secret-0123456789';

/**
 * The extraction report on a real app: a little checkout traffic, counted at the module
 * boundaries by caller, flushed into platform.module_calls / module_usage, then read back by
 * `GET /api/admin/extraction` with each module's evidence beside its scores.
 */
/** The modules the traffic below reaches: the checkout's four, and reviews (a product's reviews asked for). */
const EXERCISED = ['orders', 'inventory', 'payments', 'notifications', 'reviews'];

describe('extraction report on a running app', () => {
  let t: TestApp;
  const minuteAgo = () => ({ from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 60_000) });
  /** What the app counted so far, written as its recorder would (the test doesn't wait 10 s). */
  const flush = () => writeSnapshot(t.app.database.pool, 'test', t.app.telemetry.traffic.drain());
  const stored = async () => (await readTraffic(t.app.database.pool, minuteAgo()))!;
  const callsOf = (rows: Awaited<ReturnType<typeof stored>>['calls'], caller: string, callee: string, method: string, via = 'in-process') =>
    rows.filter((row) => row.caller === caller && row.callee === callee && row.method === method && row.via === via).reduce((sum, row) => sum + row.calls, 0);

  beforeAll(async () => {
    t = await startTestApp({ SERVICE_SECRET });
    const product = await t.call('POST', '/api/products', { token: t.adminToken, body: { sku: 'EXTRACT-1', name: 'Extraction mug', price_cents: 900, stock_quantity: 50 } });
    expect(product.status).toBe(201);
    for (let i = 0; i < 2; i += 1) {
      const customer = randomUUID();
      const token = await t.tokenFor(customer);
      expect((await t.call('PUT', `/api/customers/${customer}/contact`, { token, body: { email: `x${i}@example.test` } })).status).toBe(200);
      const order = await t.call('POST', '/api/orders', { token, body: { items: [{ product_id: product.body.id, quantity: 1 }], idempotency_key: randomUUID() } });
      expect(order.status, JSON.stringify(order.body)).toBe(201);
      await eventually(async () => expect((await t.call('GET', `/api/products/${product.body.id}`, { token: t.adminToken })).body.reserved_quantity).toBe(i + 1));
      const paid = await t.call('POST', '/api/payments', { token, body: { order_id: order.body.id, payment_method: 'pm_card_visa', idempotency_key: randomUUID() } });
      expect(paid.status, JSON.stringify(paid.body)).toBe(201);
      await eventually(async () => expect((await t.call('GET', `/api/orders/${order.body.id}`, { token })).body.status).toBe('confirmed'));
    }
    // The product's reviews: a request to reviews, which asks inventory whether the product exists.
    expect((await t.call('GET', `/api/products/${product.body.id}/reviews`, { token: t.adminToken })).status).toBe(200);
    // A call from another process, over /internal, as the process hosting payments would send it.
    const credential = new ServiceCredential(SERVICE_SECRET, 'payments');
    const internal = await t.call('POST', '/internal/orders/getOrder', { headers: { authorization: `Bearer ${await credential.token()}` }, body: { args: [randomUUID()] } });
    expect(internal.status).toBe(404);
    await flush();
  });
  afterAll(() => t.stop());

  it('stores synchronous calls by caller: modules, http for the routes, remote:<process> for internal calls', async () => {
    const { calls } = await stored();
    expect(callsOf(calls, 'http', 'inventory', 'createProduct')).toBe(1);
    expect(callsOf(calls, 'http', 'orders', 'createOrder')).toBe(2);
    expect(callsOf(calls, 'orders', 'inventory', 'getProducts')).toBe(2);
    // processPayment reads the order, and the payments route checks ownership through orders.
    expect(callsOf(calls, 'payments', 'orders', 'getOrder')).toBeGreaterThanOrEqual(2);
    expect(callsOf(calls, 'remote:payments', 'orders', 'getOrder', 'internal')).toBe(1);
  });

  it('stores requests and CPU time per module', async () => {
    const { usage } = await stored();
    const of = (module: string) => usage.find((row) => row.module === module);
    expect(of('inventory')?.requests).toBeGreaterThanOrEqual(3); // the product, then reservation checks
    expect(of('orders')?.requests).toBeGreaterThanOrEqual(4);
    expect(of('payments')?.requests).toBe(2);
    expect(of('notifications')?.requests).toBe(2); // the contacts
    for (const module of ['inventory', 'orders', 'payments']) expect(of(module)?.cpuMicros, module).toBeGreaterThan(0);
  });

  it('GET /api/admin/extraction scores every module with its evidence beside each score', async () => {
    const res = await t.call('GET', '/api/admin/extraction?window_hours=1', { token: t.adminToken });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.window.hours).toBe(1);
    expect(res.body.extract_at).toBe(6);
    const byModule: Record<string, any> = Object.fromEntries((res.body.modules as any[]).map((module) => [module.module, module]));
    expect(Object.keys(byModule).sort()).toEqual([...MODULE_NAMES].sort());
    for (const module of Object.values(byModule)) {
      expect(module.criteria.map((criterion: any) => criterion.criterion)).toEqual([
        'communication_independence',
        'independent_scaling',
        'deployment_frequency',
        'team_ownership',
        'compliance_isolation',
      ]);
      expect(module.total).toBe(module.criteria.reduce((sum: number, criterion: any) => sum + criterion.score, 0));
      expect(module.recommend_extraction).toBe(module.total >= 6);
      const [communication, scaling] = module.criteria;
      // Evidence for every module this test's traffic reached (a module added later and never called has none, and says so).
      if (EXERCISED.includes(module.module)) expect(communication.has_evidence, module.module).toBe(true);
      expect(scaling.evidence, module.module).toMatch(/% of requests \(\d+ of \d+, .*\) and \d+% of CPU time/);
    }
    const communication = (module: string) => byModule[module].criteria[0].evidence as string;
    expect(communication('orders')).toMatch(/in from payments \d+, 2 out to inventory 2\)/);
    // orders published OrderCreated and OrderConfirmed twice, and handled PaymentCaptured twice.
    expect(communication('orders')).toMatch(/ \(4 published, 2 handled\)/);
    expect(communication('payments')).toMatch(/0 in, \d+ out to orders \d+\)/);
    expect(byModule.payments.criteria[4]).toMatchObject({ score: 2, evidence: expect.stringContaining('PCI DSS') });
    expect(byModule.orders.criteria[2].evidence).toMatch(/commits to packages\/orders\/|no git history/);
  });

  it('is for admins only', async () => {
    const customer = await t.tokenFor(randomUUID());
    const res = await t.call('GET', '/api/admin/extraction', { token: customer });
    expect(res.status).toBe(403);
    expect((await t.call('GET', '/api/admin/extraction?window_hours=0', { token: t.adminToken })).status).toBe(400);
  });

  it('flushes what is left when the app stops', async () => {
    for (let i = 0; i < 3; i += 1) expect((await t.call('GET', '/api/products', { token: t.adminToken })).status).toBe(200);
    await t.app.stop();
    const client = new pg.Client({ connectionString: t.database.url });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT sum(calls)::int AS calls FROM platform.module_calls WHERE caller = 'http' AND callee = 'inventory' AND method = 'listProducts'`);
      expect(rows[0].calls).toBe(3);
    } finally {
      await client.end();
    }
  });
});
