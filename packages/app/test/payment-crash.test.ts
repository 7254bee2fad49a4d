import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signToken } from '@shop/platform';
import { startStripeStandIn, type StripeStandIn } from '@shop/payments/testing';
import { createTestDatabase, eventually, type TestDatabase } from '@shop/platform/testing';
import { ADMIN_ID, TEST_SECRET } from './harness.ts';
import { call, startServer, type ServerProcess } from './process.ts';

const WORKERS = 8;
const ORDERS_PER_WORKER = 8;
/** Acknowledged payments after which the server is killed (the other workers keep payments in flight). */
// It dies at the first moment after that when the stand-in is holding back a charge's answer.
const KILL_AFTER = 12;
/**
 * The stand-in holds every answer this long after charging (its idempotent answer stored):
 * a payment in flight at the kill has been charged at "Stripe" and not yet settled here.
 */
const RESPONSE_DELAY_MS = 300;

interface Attempt {
  worker: number;
  customerId: string;
  token: string;
  orderId: string;
  body: { order_id: string; payment_method: string; idempotency_key: string };
  /** acked: 200/201 received; lost: no answer (the process died); other: any other status. */
  outcome: 'acked' | 'lost' | 'other';
  status?: number;
  payment?: Record<string, any>;
}

interface PaymentRow {
  id: string;
  order_id: string;
  customer_id: string;
  idempotency_key: string;
  status: string;
  amount_cents: number;
  provider_ref: string | null;
}

describe('A SIGKILL while payments are in flight moves no money twice and loses no acknowledged payment', () => {
  let database: TestDatabase;
  let client: pg.Client;
  let stripe: StripeStandIn;
  const servers: ServerProcess[] = [];
  let adminToken: string;

  const env = (extra: Record<string, string> = {}) => ({
    DATABASE_URL: database.url,
    AUTH_JWT_SECRET: TEST_SECRET,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    OUTBOX_SWEEP_INTERVAL_MS: '200',
    OUTBOX_RETRY_BASE_MS: '50',
    PAYMENT_PROVIDER: 'stripe',
    STRIPE_SECRET_KEY: 'sk_test_paymentcrash',
    STRIPE_API_URL: stripe.url,
    ...extra,
  });
  const count = async (query: string, params: unknown[] = []) => Number((await client.query(query, params)).rows[0].n);
  const payments = async () =>
    (await client.query<PaymentRow>('SELECT id, order_id, customer_id, idempotency_key, status, amount_cents::int AS amount_cents, provider_ref FROM payments.payments ORDER BY created_at, id')).rows;
  const intentRequestsFor = (key: string) => stripe.requests.filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents' && r.idempotencyKey === key).length;

  beforeAll(async () => {
    database = await createTestDatabase(inject('pgAdminUrl'));
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
    stripe = await startStripeStandIn({ responseDelayMs: RESPONSE_DELAY_MS });
    adminToken = await signToken(TEST_SECRET, { sub: ADMIN_ID, roles: ['admin'] });
  });

  afterAll(async () => {
    for (const server of servers) await server.stop('SIGKILL');
    await stripe?.close();
    await client?.end();
    await database?.drop();
  });

  it('settles every payment in flight exactly once, keeps every acknowledged one, and replays keys after restart', { timeout: 150_000 }, async () => {
    const first = await startServer(env());
    servers.push(first);

    const products: string[] = [];
    for (let i = 0; i < 2; i += 1) {
      const created = await call(first.url, 'POST', '/api/products', {
        token: adminToken,
        body: { sku: `PAYCRASH-${i}`, name: `Pay crash ${i}`, price_cents: 1_000 + i, stock_quantity: 1_000_000 },
      });
      expect(created.status).toBe(201);
      products.push(created.body.id);
    }

    // Each worker is one customer with orders of its own, all reserved before any payment.
    const attempts: Attempt[] = [];
    for (let w = 0; w < WORKERS; w += 1) {
      const customerId = randomUUID();
      const token = await signToken(TEST_SECRET, { sub: customerId });
      for (let n = 0; n < ORDERS_PER_WORKER; n += 1) {
        const order = await call(first.url, 'POST', '/api/orders', {
          token,
          body: { items: [{ product_id: products[(w + n) % 2]!, quantity: 1 + (n % 3) }], idempotency_key: `order-${w}-${n}` },
        });
        expect(order.status, JSON.stringify(order.body)).toBe(201);
        const key = `pay-${w}-${n}-${randomUUID()}`;
        attempts.push({
          worker: w,
          customerId,
          token,
          orderId: order.body.id,
          body: { order_id: order.body.id, payment_method: 'pm_card_visa', idempotency_key: key },
          outcome: 'lost',
        });
      }
    }
    const orderCount = attempts.length;
    await eventually(async () => {
      expect(await count(`SELECT count(DISTINCT order_id) AS n FROM inventory.reservations WHERE status = 'active'`)).toBe(orderCount);
    }, 30_000, 100);

    // The burst: every worker pays its orders one after another, all workers at once. Once
    // KILL_AFTER payments are acknowledged, the server is killed at a moment the stand-in is
    // holding back a charge's answer: that payment is charged and cannot have been settled.
    const sent: Attempt[] = [];
    let acked = 0;
    let killed = false;
    let running = WORKERS;
    const worker = async (w: number) => {
      for (const attempt of attempts.filter((a) => a.worker === w)) {
        if (killed) break;
        sent.push(attempt);
        try {
          const answer = await call(first.url, 'POST', '/api/payments', { token: attempt.token, body: attempt.body });
          attempt.status = answer.status;
          attempt.payment = answer.body;
          if (answer.status === 200 || answer.status === 201) {
            attempt.outcome = 'acked';
            acked += 1;
          } else {
            attempt.outcome = 'other';
          }
        } catch {
          // No answer: the process is gone. Stop this worker.
          break;
        }
      }
      running -= 1;
    };
    const killer = async () => {
      while (running > 0) {
        if (acked >= KILL_AFTER && stripe.heldAnswers > 0) {
          killed = true;
          first.child.kill('SIGKILL');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    };
    await Promise.all([killer(), ...Array.from({ length: WORKERS }, (_, w) => worker(w))]);
    expect(killed).toBe(true);
    const exit = await first.exited;
    expect(exit.signal).toBe('SIGKILL');

    const ackedAttempts = sent.filter((a) => a.outcome === 'acked');
    const lostAttempts = sent.filter((a) => a.outcome === 'lost');
    expect(sent.filter((a) => a.outcome === 'other').map((a) => [a.status, a.payment])).toEqual([]);
    expect(ackedAttempts.length).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(lostAttempts.length).toBeGreaterThan(0);
    for (const attempt of ackedAttempts) expect(attempt.status).toBe(201);
    for (const attempt of ackedAttempts) expect(attempt.payment).toMatchObject({ order_id: attempt.orderId, status: 'captured' });

    // The premise: the kill left payments pending, and at least one of them was already charged
    // at the provider (its answer held back there): only a replay of its key can settle it.
    const atKill = await payments();
    const pendingAtKill = atKill.filter((p) => p.status === 'pending');
    expect(pendingAtKill.length).toBeGreaterThan(0);
    const chargedButPending = pendingAtKill.filter((p) => stripe.chargesFor(`payment:${p.id}`).length > 0);
    expect(chargedButPending.length).toBeGreaterThan(0);
    // Even at the kill, no money without a record: every charge made is a payment's, under its key.
    const chargedAtKill = atKill.filter((p) => stripe.chargesFor(`payment:${p.id}`).length > 0);
    expect(stripe.chargesFor().length).toBe(chargedAtKill.length);
    expect(atKill.filter((p) => p.status === 'captured').every((p) => chargedAtKill.includes(p))).toBe(true);
    const byKeyAtKill = new Map(atKill.map((p) => [`${p.customer_id}/${p.idempotency_key}`, p]));

    // A new process on the same database, reconciling quickly.
    const second = await startServer(env({ PAYMENTS_RECONCILE_AFTER_MS: '300', PAYMENTS_RECONCILE_INTERVAL_MS: '200' }));
    servers.push(second);

    // The requests that got no answer, retried with their keys while the reconciler works: the
    // payment the first process wrote down is answered (200), charged at most by its own key;
    // a request that never got as far as writing one creates it now (201).
    let newPayments = 0;
    for (const attempt of lostAttempts) {
      const earlier = byKeyAtKill.get(`${attempt.customerId}/${attempt.body.idempotency_key}`);
      const retry = await call(second.url, 'POST', '/api/payments', { token: attempt.token, body: attempt.body });
      expect(retry.status, JSON.stringify(retry.body)).toBe(earlier ? 200 : 201);
      expect(retry.body).toMatchObject({ order_id: attempt.orderId, status: 'captured' });
      if (earlier) expect(retry.body.id).toBe(earlier.id);
      else newPayments += 1;
      attempt.payment = retry.body;
    }

    // Nothing stays pending.
    await eventually(async () => {
      expect(await count(`SELECT count(*) AS n FROM payments.payments WHERE status = 'pending'`)).toBe(0);
    }, 30_000, 100);
    const settled = await payments();
    expect(settled.map((p) => p.status).filter((s) => s !== 'captured')).toEqual([]);

    // Every acknowledged payment is there as it was answered; every retried one as it was answered.
    const rows = new Map(settled.map((p) => [p.id, p]));
    for (const attempt of [...ackedAttempts, ...lostAttempts]) {
      const row = rows.get(attempt.payment!.id);
      expect(row, `payment ${attempt.payment!.id}`).toBeDefined();
      expect(row).toMatchObject({
        order_id: attempt.orderId,
        customer_id: attempt.customerId,
        idempotency_key: attempt.body.idempotency_key,
        amount_cents: attempt.payment!.amount_cents,
        provider_ref: attempt.payment!.provider_ref,
      });
    }
    // No payment the clients don't know of: one per request sent, and only for those.
    expect(settled.length).toBe(ackedAttempts.length + lostAttempts.length);
    expect(new Set(settled.map((p) => p.idempotency_key))).toEqual(new Set([...ackedAttempts, ...lostAttempts].map((a) => a.body.idempotency_key)));
    expect(settled.length).toBe(atKill.length + newPayments);

    // Money: exactly one charge per payment, under the payment's own key, the one recorded,
    // for its amount; no charge without a payment; nothing refunded.
    for (const payment of settled) {
      const charges = stripe.chargesFor(`payment:${payment.id}`);
      expect(charges.map((c) => c.id), `charges for payment ${payment.id}`).toEqual([payment.provider_ref]);
      expect(charges[0]!.amount).toBe(payment.amount_cents);
      expect(charges[0]!.metadata).toMatchObject({ order_id: payment.order_id });
    }
    const charges = stripe.chargesFor();
    expect(charges.length).toBe(settled.length);
    expect(new Set(charges.map((c) => c.idempotency_key))).toEqual(new Set(settled.map((p) => `payment:${p.id}`)));
    expect(stripe.refundsFor()).toEqual([]);
    // The charges already made at the kill were asked for again (replayed), not made anew.
    for (const payment of chargedButPending) expect(intentRequestsFor(`payment:${payment.id}`)).toBeGreaterThanOrEqual(2);

    // Replaying any request again answers 200 with the same payment and charges nothing.
    const chargesBeforeReplay = stripe.chargesFor().length;
    for (const attempt of [...ackedAttempts.slice(0, 3), ...lostAttempts]) {
      const replay = await call(second.url, 'POST', '/api/payments', { token: attempt.token, body: attempt.body });
      expect(replay.status).toBe(200);
      expect(replay.body).toEqual(attempt.payment);
    }
    expect(stripe.chargesFor().length).toBe(chargesBeforeReplay);

    // Events: one PaymentCaptured per payment, all delivered; each paid order confirmed once,
    // the unpaid ones left pending.
    await eventually(async () => {
      expect(await count(`SELECT count(*) AS n FROM payments.outbox WHERE status <> 'delivered'`)).toBe(0);
      expect(await count(`SELECT count(*) AS n FROM orders.outbox WHERE status <> 'delivered'`)).toBe(0);
      expect(await count(`SELECT count(*) AS n FROM orders.orders WHERE status = 'confirmed'`)).toBe(settled.length);
    }, 30_000, 100);
    expect(await count(`SELECT count(*) AS n FROM payments.outbox WHERE event_type = 'PaymentCaptured'`)).toBe(settled.length);
    expect(
      (
        await client.query(`
          SELECT p.id, count(x.id) AS events
          FROM payments.payments p LEFT JOIN payments.outbox x ON x.event_type = 'PaymentCaptured' AND (x.payload->>'payment_id')::uuid = p.id
          GROUP BY p.id HAVING count(x.id) <> 1`)
      ).rows,
    ).toEqual([]);
    expect(await count(`SELECT count(*) AS n FROM payments.outbox WHERE event_type <> 'PaymentCaptured'`)).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM orders.inbox WHERE consumer = 'orders' AND event_type = 'PaymentCaptured'`)).toBe(settled.length);

    const paidOrders = new Set(settled.map((p) => p.order_id));
    const { rows: orders } = await client.query<{ id: string; status: string; confirmations: string }>(`
      SELECT o.id, o.status,
        (SELECT count(*) FROM orders.outbox x WHERE x.event_type = 'OrderConfirmed' AND (x.payload->>'order_id')::uuid = o.id) AS confirmations
      FROM orders.orders o`);
    expect(orders.length).toBe(orderCount);
    for (const order of orders) {
      const paid = paidOrders.has(order.id);
      expect({ id: order.id, status: order.status, confirmations: Number(order.confirmations) }).toEqual({
        id: order.id,
        status: paid ? 'confirmed' : 'pending',
        confirmations: paid ? 1 : 0,
      });
    }

    const stopped = await second.stop('SIGTERM');
    expect(stopped.code).toBe(0);
  });
});

