import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@shop/platform/testing';
import { startTestApp, type TestApp } from './harness.ts';

describe('racing requests', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  const sql = async (text: string, values: unknown[] = []) => (await t.app.database.pool.query(text, values)).rows;

  async function product(sku: string, stock_quantity: number) {
    const res = await t.call('POST', '/api/products', { token: t.adminToken, body: { sku, name: sku, price_cents: 990, stock_quantity } });
    expect(res.status).toBe(201);
    return res.body as { id: string };
  }

  /** Fires all requests at once over real connections; nothing awaits another. */
  async function race(requests: { token: string; body: unknown; headers?: Record<string, string> }[]) {
    return Promise.all(
      requests.map(async ({ token, body, headers }) => {
        const response = await fetch(`${t.url}/api/orders`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
          body: JSON.stringify(body),
        });
        return { status: response.status, body: (await response.json()) as any };
      }),
    );
  }

  it('40 retries racing with one idempotency key make exactly one order and one OrderCreated', async () => {
    const p = await product('RACE-KEY', 100);
    const customer = randomUUID();
    const token = await t.tokenFor(customer);
    const key = `race-${randomUUID()}`;
    const body = { items: [{ product_id: p.id, quantity: 2 }], idempotency_key: key };

    const results = await race(Array.from({ length: 40 }, () => ({ token, body })));

    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201), JSON.stringify(results.filter((r) => r.status >= 300))).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(39);
    const first = results.find((r) => r.status === 201)!.body;
    for (const result of results) {
      expect(result.body.id).toBe(first.id);
      expect(result.body).toMatchObject({ customer_id: customer, total_cents: 1980, items: first.items });
    }

    const rows = await sql(`SELECT id FROM orders.orders WHERE customer_id = $1 AND idempotency_key = $2`, [customer, key]);
    expect(rows).toEqual([{ id: first.id }]);
    expect((await sql(`SELECT count(*)::int AS n FROM orders.orders WHERE customer_id = $1`, [customer]))[0].n).toBe(1);
    const events = await sql(`SELECT id FROM orders.outbox WHERE event_type = 'OrderCreated' AND payload->>'order_id' = $1`, [first.id]);
    expect(events).toHaveLength(1);
    expect((await sql(`SELECT count(*)::int AS n FROM orders.outbox WHERE event_type = 'OrderCreated' AND payload->>'customer_id' = $1`, [customer]))[0].n).toBe(1);

    // And one reservation, of 2, not 80.
    await eventually(async () => {
      const after = await t.call('GET', `/api/products/${p.id}`, { token: t.adminToken });
      expect(after.body.reserved_quantity).toBe(2);
    });
    const reservations = await t.call('GET', `/api/reservations?order_id=${first.id}`, { token: t.adminToken });
    expect(reservations.body).toHaveLength(1);
  });

  it('the same key racing with two different payloads: one wins, the others replay it or get 422', async () => {
    const p = await product('RACE-MIXED', 100);
    const customer = randomUUID();
    const token = await t.tokenFor(customer);
    const key = `mixed-${randomUUID()}`;
    const requests = Array.from({ length: 20 }, (_, i) => ({
      token,
      body: { items: [{ product_id: p.id, quantity: (i % 2) + 1 }] },
      headers: { 'idempotency-key': key },
    }));
    const results = await race(requests);
    expect(results.every((r) => [200, 201, 422].includes(r.status)), JSON.stringify(results.map((r) => r.status))).toBe(true);
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    const winner = results.find((r) => r.status === 201)!.body;
    const winningQuantity = winner.items[0].quantity;
    results.forEach((r, i) => {
      const quantity = (i % 2) + 1;
      if (quantity === winningQuantity) {
        expect([200, 201]).toContain(r.status);
        expect(r.body.id).toBe(winner.id);
      } else {
        expect(r.status).toBe(422);
        expect(r.body.code).toBe('idempotency_key_reused');
      }
    });
    expect((await sql(`SELECT count(*)::int AS n FROM orders.orders WHERE customer_id = $1`, [customer]))[0].n).toBe(1);
  });

  it('60 customers racing for 7 in stock: exactly 7 orders hold stock, 53 are cancelled, never oversold', async () => {
    const p = await product('RACE-STOCK', 7);
    const customers = await Promise.all(
      Array.from({ length: 60 }, async () => {
        const id = randomUUID();
        return { id, token: await t.tokenFor(id) };
      }),
    );

    let maxReserved = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [row] = await sql(`SELECT stock_quantity, reserved_quantity FROM inventory.products WHERE id = $1`, [p.id]);
        maxReserved = Math.max(maxReserved, row.reserved_quantity);
        expect(row.stock_quantity).toBe(7);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();

    let orderIds: string[];
    try {
      const results = await race(customers.map((c) => ({ token: c.token, body: { items: [{ product_id: p.id, quantity: 1 }], idempotency_key: `one-${c.id}` } })));
      expect(results.map((r) => r.status).filter((s) => s !== 201), JSON.stringify(results.filter((r) => r.status !== 201))).toEqual([]);
      orderIds = results.map((r) => r.body.id as string);
      expect(new Set(orderIds).size).toBe(60);

      await eventually(
        async () => {
          const rows = await sql(
            `SELECT status, cancel_reason, count(*)::int AS n FROM orders.orders WHERE id = ANY($1::uuid[]) GROUP BY status, cancel_reason ORDER BY status`,
            [orderIds],
          );
          expect(rows).toEqual([
            { status: 'cancelled', cancel_reason: 'insufficient_stock', n: 53 },
            { status: 'pending', cancel_reason: null, n: 7 },
          ]);
        },
        20_000,
        50,
      );
    } finally {
      sampling = false;
    }
    await sampler;

    const [stock] = await sql(`SELECT stock_quantity, reserved_quantity FROM inventory.products WHERE id = $1`, [p.id]);
    expect(stock).toEqual({ stock_quantity: 7, reserved_quantity: 7 });
    expect(maxReserved).toBeLessThanOrEqual(7);

    // The 7 pending orders each hold one active reservation; the 53 cancelled hold none.
    const pending = (await sql(`SELECT id FROM orders.orders WHERE id = ANY($1::uuid[]) AND status = 'pending'`, [orderIds])).map((r) => r.id as string);
    const reservations = await sql(`SELECT order_id, quantity, status FROM inventory.reservations WHERE product_id = $1`, [p.id]);
    expect(reservations).toHaveLength(7);
    expect(reservations.every((r) => r.status === 'active' && r.quantity === 1)).toBe(true);
    expect(reservations.map((r) => r.order_id).sort()).toEqual([...pending].sort());

    // Settled: waiting longer changes nothing.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [later] = await sql(`SELECT reserved_quantity FROM inventory.products WHERE id = $1`, [p.id]);
    expect(later.reserved_quantity).toBe(7);
    const viaHttp = await t.call('GET', `/api/products/${p.id}`, { token: t.adminToken });
    expect(viaHttp.body).toMatchObject({ stock_quantity: 7, reserved_quantity: 7 });
  });
});
