import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signToken } from '@shop/platform';
import { createTestDatabase, eventually, type TestDatabase } from '@shop/platform/testing';
import { ADMIN_ID, TEST_SECRET } from './harness.ts';
import { call, startServer, type ServerProcess } from './process.ts';

const WORKERS = 8;
/** Acknowledged orders after which the server is killed (the workers keep requests in flight). */
const KILL_AFTER = 200;

interface Attempt {
  token: string;
  key: string;
  body: { items: Array<{ product_id: string; quantity: number }>; idempotency_key: string };
  /** acked: 200/201 received; lost: no answer (the process died); other: any other status. */
  outcome: 'acked' | 'lost' | 'other';
  status?: number;
  orderId?: string;
}

describe('A SIGKILL mid-burst loses no acknowledged order and no committed event', () => {
  let database: TestDatabase;
  let client: pg.Client;
  const servers: ServerProcess[] = [];
  let adminToken: string;

  const env = () => ({
    DATABASE_URL: database.url,
    AUTH_JWT_SECRET: TEST_SECRET,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    OUTBOX_SWEEP_INTERVAL_MS: '200',
    OUTBOX_RETRY_BASE_MS: '50',
  });
  const count = async (query: string, params: unknown[] = []) => Number((await client.query(query, params)).rows[0].n);

  beforeAll(async () => {
    database = await createTestDatabase(inject('pgAdminUrl'));
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
    adminToken = await signToken(TEST_SECRET, { sub: ADMIN_ID, roles: ['admin'] });
  });

  afterAll(async () => {
    for (const server of servers) await server.stop('SIGKILL');
    await client?.end();
    await database?.drop();
  });

  it('keeps every acknowledged order, delivers every event exactly once in effect, and replays keys after restart', { timeout: 150_000 }, async () => {
    const first = await startServer(env());
    servers.push(first);

    const products: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const created = await call(first.url, 'POST', '/api/products', {
        token: adminToken,
        body: { sku: `CRASH-${i}`, name: `Crash ${i}`, price_cents: 100 + i, stock_quantity: 1_000_000 },
      });
      expect(created.status).toBe(201);
      products.push(created.body.id);
    }

    // The burst: each worker is one customer sending orders one after another, all workers at once.
    const attempts: Attempt[] = [];
    let acked = 0;
    let killed = false;
    let killedAt = 0;
    const worker = async (w: number) => {
      const token = await signToken(TEST_SECRET, { sub: randomUUID() });
      for (let n = 0; !killed; n += 1) {
        const chosen = products.filter((_, i) => (n + w + i) % 3 !== 0); // two products, rotating
        const picked = n % 2 === 0 ? chosen : chosen.slice(0, 1);
        const key = `crash-${w}-${n}`;
        const attempt: Attempt = {
          token,
          key,
          body: { items: picked.map((product_id, i) => ({ product_id, quantity: 1 + ((n + i + w) % 3) })), idempotency_key: key },
          outcome: 'lost',
        };
        attempts.push(attempt);
        try {
          const answer = await call(first.url, 'POST', '/api/orders', { token, body: attempt.body });
          attempt.status = answer.status;
          if (answer.status === 200 || answer.status === 201) {
            attempt.outcome = 'acked';
            attempt.orderId = answer.body.id;
            acked += 1;
            if (acked >= KILL_AFTER && !killed) {
              killed = true;
              killedAt = attempts.length;
              first.child.kill('SIGKILL');
            }
          } else {
            attempt.outcome = 'other';
          }
        } catch {
          // No answer: the process is gone. Stop this worker.
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    const exit = await first.exited;
    expect(exit.signal).toBe('SIGKILL');

    const ackedAttempts = attempts.filter((a) => a.outcome === 'acked');
    const lostAttempts = attempts.filter((a) => a.outcome === 'lost');
    expect(attempts.filter((a) => a.outcome === 'other').map((a) => a.status)).toEqual([]);
    expect(ackedAttempts.length).toBeGreaterThanOrEqual(KILL_AFTER);
    // The kill really landed mid-burst: requests were in flight when it did.
    expect(lostAttempts.length).toBeGreaterThan(0);
    expect(killedAt).toBeGreaterThan(0);

    const pendingAtKill = {
      orders: await count(`SELECT count(*) AS n FROM orders.outbox WHERE status <> 'delivered'`),
      inventory: await count(`SELECT count(*) AS n FROM inventory.outbox WHERE status <> 'delivered'`),
    };
    // The kill left committed events undelivered (or delivered but not yet marked so): recovery has work to do.
    expect(pendingAtKill.orders + pendingAtKill.inventory).toBeGreaterThan(0);
    // A new process on the same database.
    const second = await startServer(env());
    servers.push(second);

    // Every acknowledged order survived.
    const missing: string[] = [];
    const queue = [...ackedAttempts];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let attempt = queue.pop(); attempt; attempt = queue.pop()) {
          const found = await call(second.url, 'GET', `/api/orders/${attempt.orderId}`, { token: adminToken });
          if (found.status !== 200 || found.body.id !== attempt.orderId) missing.push(attempt.orderId!);
        }
      }),
    );
    expect(missing).toEqual([]);

    // Replaying acknowledged requests with their keys answers with the same order, creating none.
    for (const attempt of ackedAttempts.slice(0, 5)) {
      const replay = await call(second.url, 'POST', '/api/orders', { token: attempt.token, body: attempt.body });
      expect(replay.status).toBe(200);
      expect(replay.body.id).toBe(attempt.orderId);
    }
    // The requests that got no answer: retried with their keys, each ends with exactly one order.
    const retried: string[] = [];
    for (const attempt of lostAttempts) {
      const retry = await call(second.url, 'POST', '/api/orders', { token: attempt.token, body: attempt.body });
      expect([200, 201]).toContain(retry.status);
      retried.push(retry.body.id);
    }

    // No order the clients don't know of, none twice.
    const { rows: orderRows } = await client.query<{ id: string }>('SELECT id FROM orders.orders');
    const known = new Set([...ackedAttempts.map((a) => a.orderId!), ...retried]);
    expect(orderRows.length).toBe(known.size);
    expect(new Set(orderRows.map((row) => row.id))).toEqual(known);

    // Both outboxes drain: nothing pending, nothing failed.
    await eventually(async () => {
      expect(await count(`SELECT count(*) AS n FROM orders.outbox WHERE status <> 'delivered'`)).toBe(0);
      expect(await count(`SELECT count(*) AS n FROM inventory.outbox WHERE status <> 'delivered'`)).toBe(0);
    }, 30_000, 100);

    // Exactly one OrderCreated per order, and no other event for an order that doesn't exist.
    expect(await count(`SELECT count(*) AS n FROM orders.outbox WHERE event_type = 'OrderCreated'`)).toBe(orderRows.length);
    expect(
      (
        await client.query(`
          SELECT o.id, count(x.id) AS events
          FROM orders.orders o LEFT JOIN orders.outbox x ON x.event_type = 'OrderCreated' AND (x.payload->>'order_id')::uuid = o.id
          GROUP BY o.id HAVING count(x.id) <> 1`)
      ).rows,
    ).toEqual([]);

    // Inventory handled each OrderCreated exactly once: one inbox row per event, none for unknown events.
    expect(await count(`SELECT count(*) AS n FROM inventory.inbox WHERE consumer = 'inventory' AND event_type = 'OrderCreated'`)).toBe(orderRows.length);
    expect(
      (
        await client.query(`
          SELECT x.id FROM orders.outbox x
          WHERE x.event_type = 'OrderCreated'
            AND (SELECT count(*) FROM inventory.inbox i WHERE i.consumer = 'inventory' AND i.event_id = x.id) <> 1`)
      ).rows,
    ).toEqual([]);
    // ...and published one StockReserved per order.
    expect(await count(`SELECT count(DISTINCT payload->>'order_id') AS n FROM inventory.outbox WHERE event_type = 'StockReserved'`)).toBe(orderRows.length);
    expect(await count(`SELECT count(*) AS n FROM inventory.outbox WHERE event_type = 'StockReserved'`)).toBe(orderRows.length);
    expect(await count(`SELECT count(*) AS n FROM inventory.outbox WHERE event_type = 'StockReservationFailed'`)).toBe(0);

    // Each order holds exactly its items: one active reservation per product, of its quantity.
    expect(
      (
        await client.query(`
          SELECT coalesce(i.order_id, r.order_id) AS order_id, coalesce(i.product_id, r.product_id) AS product_id, i.quantity AS ordered, r.quantity AS reserved, r.status
          FROM (SELECT order_id, product_id, sum(quantity)::int AS quantity FROM orders.order_items GROUP BY 1, 2) i
          FULL JOIN inventory.reservations r ON r.order_id = i.order_id AND r.product_id = i.product_id
          WHERE i.quantity IS DISTINCT FROM r.quantity OR r.status <> 'active'`)
      ).rows,
    ).toEqual([]);
    expect(
      (
        await client.query(`
          SELECT o.id FROM orders.orders o
          WHERE (SELECT count(DISTINCT product_id) FROM orders.order_items i WHERE i.order_id = o.id)
             <> (SELECT count(*) FROM inventory.reservations r WHERE r.order_id = o.id)`)
      ).rows,
    ).toEqual([]);
    // Products' reserved quantities are the sum of every order's items: nothing reserved twice or lost.
    const { rows: levels } = await client.query<{ id: string; reserved_quantity: number; ordered: string }>(`
      SELECT p.id, p.reserved_quantity, coalesce((SELECT sum(quantity) FROM orders.order_items i WHERE i.product_id = p.id), 0) AS ordered
      FROM inventory.products p`);
    for (const level of levels) expect(level.reserved_quantity, `product ${level.id}`).toBe(Number(level.ordered));
    // Every order still pending (nothing cancelled it).
    expect(await count(`SELECT count(*) AS n FROM orders.orders WHERE status <> 'pending'`)).toBe(0);

    const stopped = await second.stop('SIGTERM');
    expect(stopped.code).toBe(0);
  });
});
