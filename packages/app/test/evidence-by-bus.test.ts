import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { readEventCounts, readTraffic } from '@shop/distribution';
import { deleteNatsStream, eventually, startNatsForTests } from '@shop/platform/testing';
import { MODULE_NAMES } from '../src/topology-config.ts';
import { startTestApp, type TestApp } from './harness.ts';

/**
 * The extraction report's evidence must not depend on how events travel: the same traffic in one
 * process, events delivered in process (in batches) or over NATS (one by one), records the same
 * calls between modules, the same requests per module, the same events published and handled,
 * and CPU charged to every module that did work. (Its CPU amounts differ run to run; they are
 * compared only for being there.)
 *
 * NATS is required: from NATS_URL (CI) or a nats-server spawned from PATH; without either the file
 * is skipped, and says so in its name and on stderr.
 */
const nats = await startNatsForTests();
afterAll(() => nats?.stop());
const SKIPPED = 'SKIPPED: no NATS (set NATS_URL, or put nats-server on PATH)';

interface Evidence {
  calls: Record<string, number>;
  requests: Record<string, number>;
  cpuCharged: string[];
  events: Record<string, { published: number; consumed: number } | undefined>;
}

/**
 * The same customer journeys, on a fresh app: three paid, shipped and delivered orders, and one
 * cancelled. Waits read the database, not the API: the requests are the traffic under test.
 */
async function driveTraffic(t: TestApp): Promise<void> {
  const product = (await t.call('POST', '/api/products', { token: t.adminToken, body: { sku: `EV-${randomUUID().slice(0, 8)}`, name: 'Evidence mug', price_cents: 500, stock_quantity: 50 } })).body;
  const one = async (text: string, values: unknown[]) => (await t.app.database.pool.query(text, values)).rows[0];
  const reserved = async () => Number((await one('SELECT reserved_quantity FROM inventory.products WHERE id = $1', [product.id])).reserved_quantity);
  const statusOf = async (id: string) => (await one('SELECT status FROM orders.orders WHERE id = $1', [id])).status;
  for (let n = 0; n < 4; n++) {
    const customer = randomUUID();
    const token = await t.tokenFor(customer);
    expect((await t.call('PUT', `/api/customers/${customer}/contact`, { token, body: { email: `ev-${customer.slice(0, 8)}@example.test` } })).status).toBe(200);
    const order = await t.call('POST', '/api/orders', { token, body: { items: [{ product_id: product.id, quantity: 1 }], idempotency_key: randomUUID() } });
    expect(order.status).toBe(201);
    await eventually(async () => expect(await reserved()).toBe(1), 20_000, 25);
    if (n === 3) {
      expect((await t.call('POST', `/api/orders/${order.body.id}/cancel`, { token, body: { reason: 'changed my mind' } })).status).toBe(200);
      await eventually(async () => expect(await reserved()).toBe(0), 20_000, 25);
      continue;
    }
    expect((await t.call('POST', '/api/payments', { token, body: { order_id: order.body.id, payment_method: 'pm_card_visa', idempotency_key: randomUUID() } })).status).toBe(201);
    await eventually(async () => expect(await statusOf(order.body.id)).toBe('confirmed'), 20_000, 25);
    expect((await t.call('POST', `/api/orders/${order.body.id}/ship`, { token: t.adminToken })).status).toBe(200);
    expect((await t.call('POST', `/api/orders/${order.body.id}/deliver`, { token: t.adminToken })).status).toBe(200);
  }
  // Every reaction done: three orders' stock committed, and each notification recorded.
  await eventually(async () => expect(await one('SELECT stock_quantity, reserved_quantity FROM inventory.products WHERE id = $1', [product.id])).toEqual({ stock_quantity: 47, reserved_quantity: 0 }), 20_000, 25);
}

/** Runs the traffic, stops the app (its recorder writes the last counts), and reads what it recorded. */
async function evidenceOf(env: Record<string, string>): Promise<Evidence> {
  const t = await startTestApp(env);
  const from = new Date(Date.now() - 60_000);
  try {
    await driveTraffic(t);
    // Settled: nothing pending in any outbox, every notification sent.
    await eventually(async () => {
      const { rows } = await t.app.database.pool.query<{ pending: number }>(
        `SELECT (SELECT count(*) FROM orders.outbox WHERE status <> 'delivered') + (SELECT count(*) FROM inventory.outbox WHERE status <> 'delivered')
              + (SELECT count(*) FROM payments.outbox WHERE status <> 'delivered') + (SELECT count(*) FROM notifications.outbox WHERE status <> 'delivered')
              + (SELECT count(*) FROM notifications.notifications WHERE status = 'pending') AS pending`,
      );
      expect(Number(rows[0]!.pending)).toBe(0);
    }, 20_000, 50);
    await new Promise((resolve) => setTimeout(resolve, 500)); // the last handlers' inbox rows, after the outbox row
  } finally {
    await t.app.stop();
  }
  const pool = new pg.Pool({ connectionString: t.database.url, max: 2 });
  try {
    const window = { from, to: new Date(Date.now() + 60_000) };
    const traffic = (await readTraffic(pool, window))!;
    const events = Object.fromEntries(await Promise.all(MODULE_NAMES.map(async (module) => [module, await readEventCounts(pool, module, window)] as const)));
    return {
      calls: Object.fromEntries(traffic.calls.map((row) => [`${row.caller} → ${row.callee}.${row.method} (${row.via})`, Number(row.calls)])),
      requests: Object.fromEntries(traffic.usage.map((row) => [row.module, Number(row.requests)])),
      cpuCharged: traffic.usage.filter((row) => Number(row.cpuMicros) > 0).map((row) => row.module).sort(),
      events,
    };
  } finally {
    await pool.end();
    await t.database.drop();
  }
}

describe.skipIf(!nats)(nats ? 'extraction evidence, whichever bus carries the events' : `extraction evidence by bus — ${SKIPPED}`, () => {
  it('is the same for the same traffic with events in process and over NATS', async () => {
    const inProcess = await evidenceOf({});
    const stream = `EVIDENCE_${randomBytes(4).toString('hex')}`;
    let overNats: Evidence;
    try {
      overNats = await evidenceOf({ NATS_URL: nats!.url, NATS_STREAM: stream, NATS_SUBJECT_PREFIX: stream.toLowerCase() });
    } finally {
      await deleteNatsStream(nats!.url, stream);
    }
    expect(Object.keys(inProcess.calls).length, 'calls between modules were recorded').toBeGreaterThan(0);
    expect(overNats.calls).toEqual(inProcess.calls);
    expect(overNats.requests).toEqual(inProcess.requests);
    expect(overNats.events).toEqual(inProcess.events);
    // Every module the journeys reach did work on both runs (inventory's, in process, is all in
    // batched event handling; reviews' is all OrderDelivered), and the same modules on both.
    expect(inProcess.cpuCharged).toEqual(expect.arrayContaining(['inventory', 'notifications', 'orders', 'payments', 'reviews']));
    expect(overNats.cpuCharged).toEqual(inProcess.cpuCharged);
  });
});
