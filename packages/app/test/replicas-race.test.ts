import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { signToken } from '@shop/platform';
import { createTestDatabase, eventually, type TestDatabase } from '@shop/platform/testing';
import { ADMIN_ID, TEST_SECRET } from './harness.ts';
import { call, startServer, type ServerProcess } from './process.ts';

/**
 * Two replicas of the all-in-one server on one database, each delivering its own outbox to its
 * own consumers. An order created on one and cancelled at once on the other has its
 * OrderCreated and its OrderCancelled handled by different processes at the same moment: the
 * saga steps that decide on the order (reserve, release, pay, refund) must take turns on it.
 */
const ORDERS = 300;
const PAYMENT_RACES = 120;
const WORKERS = 8;

describe('two replicas racing on one database', () => {
  let database: TestDatabase;
  let replicas: ServerProcess[];
  let pool: pg.Pool;
  let adminToken: string;
  let customerToken: string;
  let productId: string;

  beforeAll(async () => {
    database = await createTestDatabase(inject('pgAdminUrl'));
    pool = new pg.Pool({ connectionString: database.url, max: 2 });
    const env = {
      DATABASE_URL: database.url,
      AUTH_JWT_SECRET: TEST_SECRET,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      NODE_ENV: 'test',
      OUTBOX_SWEEP_INTERVAL_MS: '200',
      OUTBOX_RETRY_BASE_MS: '50',
    };
    // One after the other: the second finds the schema migrated (as in a rolling deploy).
    replicas = [await startServer(env), await startServer(env)];
    adminToken = await signToken(TEST_SECRET, { sub: ADMIN_ID, roles: ['admin'] });
    customerToken = await signToken(TEST_SECRET, { sub: randomUUID(), roles: [] });
    const product = await call(replicas[0]!.url, 'POST', '/api/products', {
      token: adminToken,
      body: { sku: `RACE-${randomUUID()}`, name: 'Raced', price_cents: 500, stock_quantity: 100_000 },
    });
    expect(product.status).toBe(201);
    productId = product.body.id;
  }, 120_000);

  afterAll(async () => {
    await Promise.all((replicas ?? []).map((replica) => replica.stop()));
    await pool?.end();
    await database?.drop();
  });

  const [first, second] = [() => replicas[0]!.url, () => replicas[1]!.url];
  const rows = async (text: string, values: unknown[] = []) => (await pool.query(text, values)).rows;

  async function createOrder(quantity = 1): Promise<string> {
    const created = await call(first(), 'POST', '/api/orders', {
      token: customerToken,
      body: { items: [{ product_id: productId, quantity }], idempotency_key: randomUUID() },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body.id;
  }

  /** Runs `work(i)` for i in [0, count) on WORKERS concurrent lanes. */
  async function inLanes(count: number, work: (i: number) => Promise<void>): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        while (next < count) await work(next++);
      }),
    );
  }

  it(`create on one replica, cancel at once on the other, ${ORDERS} times: no reservation outlives its order`, async () => {
    const orderIds: string[] = [];
    await inLanes(ORDERS, async () => {
      const id = await createOrder(2);
      orderIds.push(id);
      const cancelled = await call(second(), 'POST', `/api/orders/${id}/cancel`, { token: customerToken, body: { reason: 'raced' } });
      expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    });

    await eventually(async () => {
      const [pending] = await rows(`SELECT (SELECT count(*) FROM orders.outbox WHERE status <> 'delivered') + (SELECT count(*) FROM inventory.outbox WHERE status <> 'delivered') AS n`);
      expect(Number(pending.n)).toBe(0);
      const handled = await rows(`SELECT count(*) AS n FROM inventory.inbox WHERE consumer = 'inventory'`);
      expect(Number(handled[0].n)).toBe(ORDERS * 2);
    }, 30_000, 100);

    const leaked = await rows(`SELECT order_id FROM inventory.reservations WHERE status = 'active' AND order_id = ANY($1::uuid[])`, [orderIds]);
    expect(leaked, `${leaked.length} of ${ORDERS} cancelled orders still hold stock`).toEqual([]);
    const product = await call(second(), 'GET', `/api/products/${productId}`, { token: customerToken });
    expect(product.body.reserved_quantity).toBe(0);
    expect(product.body.stock_quantity).toBe(100_000);
    // Nothing doubled: at most one reservation row per order, and each released once.
    const [doubled] = await rows(`SELECT count(*) AS n FROM (SELECT order_id FROM inventory.reservations WHERE order_id = ANY($1::uuid[]) GROUP BY order_id HAVING count(*) > 1) AS d`, [orderIds]);
    expect(Number(doubled.n)).toBe(0);
    const [releases] = await rows(`SELECT count(*) AS n, count(DISTINCT payload->>'order_id') AS orders FROM inventory.outbox WHERE event_type = 'StockReleased'`);
    expect(Number(releases.n)).toBe(Number(releases.orders));
  });

  it(`pay on one replica while the other cancels, ${PAYMENT_RACES} times: no captured payment outlives its cancelled order`, async () => {
    const orderIds: string[] = [];
    const statuses = new Map<number, number>();
    await inLanes(PAYMENT_RACES, async () => {
      const id = await createOrder();
      orderIds.push(id);
      const [paid, cancelled] = await Promise.all([
        call(first(), 'POST', '/api/payments', { token: customerToken, body: { order_id: id, payment_method: 'pm_card_visa', idempotency_key: randomUUID() } }),
        call(second(), 'POST', `/api/orders/${id}/cancel`, { token: customerToken, body: { reason: 'raced' } }),
      ]);
      statuses.set(paid.status, (statuses.get(paid.status) ?? 0) + 1);
      // Paid first (captured), or found the order cancelled: never anything else.
      expect([201, 409], JSON.stringify(paid.body)).toContain(paid.status);
      // Cancelling is allowed from pending and from confirmed: it always wins in the end.
      expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    });

    await eventually(async () => {
      const captured = await rows(`SELECT id FROM payments.payments WHERE status IN ('captured', 'pending') AND order_id = ANY($1::uuid[])`, [orderIds]);
      expect(captured, 'captured payments of cancelled orders, not refunded').toEqual([]);
      const reserved = await rows(`SELECT order_id FROM inventory.reservations WHERE status = 'active' AND order_id = ANY($1::uuid[])`, [orderIds]);
      expect(reserved).toEqual([]);
    }, 30_000, 100);

    const orders = await rows(`SELECT status, count(*)::int AS n FROM orders.orders WHERE id = ANY($1::uuid[]) GROUP BY status`, [orderIds]);
    expect(orders).toEqual([{ status: 'cancelled', n: PAYMENT_RACES }]);
    // Nothing doubled: one live-or-refunded payment per order at most, one refund event per payment.
    const [perOrder] = await rows(`SELECT coalesce(max(n), 0)::int AS n FROM (SELECT count(*) AS n FROM payments.payments WHERE order_id = ANY($1::uuid[]) AND status <> 'failed' GROUP BY order_id) AS p`, [orderIds]);
    expect(perOrder.n).toBeLessThanOrEqual(1);
    const [refunds] = await rows(`SELECT count(*)::int AS n, count(DISTINCT payload->>'payment_id')::int AS payments FROM payments.outbox WHERE event_type = 'PaymentRefunded'`);
    expect(refunds.n).toBe(refunds.payments);
    const [refunded] = await rows(`SELECT count(*)::int AS n FROM payments.payments WHERE status = 'refunded' AND order_id = ANY($1::uuid[])`, [orderIds]);
    expect(refunded.n).toBe(statuses.get(201) ?? 0);
    console.log(`payment races: ${statuses.get(201) ?? 0} captured then refunded, ${statuses.get(409) ?? 0} refused as cancelled`);
  });
});
