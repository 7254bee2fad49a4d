import { randomBytes, randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, signToken } from '@shop/platform';
import { createTestDatabase, deleteNatsStream, eventually, startNatsForTests, type TestDatabase } from '@shop/platform/testing';
import { MODULE_NAMES, type ModuleName } from '../src/topology-config.ts';
import { ADMIN_ID, TEST_SECRET } from './harness.ts';
import { findHaproxy, startHaproxy, type Balancer } from './haproxy.ts';
import { startServer, type ServerEnv, type ServerProcess } from './process.ts';

/**
 * "Rolling restarts lose nothing", with real processes behind a real load balancer: each module
 * in a process of its own, each process in two replicas (8 processes), one HAProxy frontend per
 * module (what every process's `<MODULE>_URL` names) and one public frontend over all replicas.
 * Under a steady load of checkouts (4 clients), every replica is restarted in turn (SIGTERM, exit,
 * start, back in the balancer), and then: no request failed, no effect was lost, none doubled.
 */
const SERVICE_SECRET = 'rolling-restart-service-secret-0123456789';
const DRAIN_MS = 1_500;
const CLIENTS = 4;
const ASYNC_MS = 30_000;

const haproxy = await findHaproxy();
const nats = haproxy ? await startNatsForTests() : undefined;
afterAll(() => nats?.stop());

const NO_HAPROXY = 'no HAProxy (haproxy in PATH or /usr/sbin/haproxy; on Debian: apt-get install -y haproxy)';
if (!haproxy && !process.env.CI) {
  const banner = '!'.repeat(78);
  console.warn(`\n${banner}\n!! rolling-restart test SKIPPED: ${NO_HAPROXY}.\n${banner}\n`);
}

/** Whether something accepts TCP connections on the port (the replica's listener is still open). */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

interface Replica {
  readonly name: string;
  readonly module: ModuleName;
  readonly port: number;
  readonly env: ServerEnv;
  server: ServerProcess;
}

interface Checkout {
  readonly orderId: string;
  readonly productId: string;
  readonly cancelled: boolean;
}

if (!haproxy && process.env.CI) {
  describe('rolling restart behind HAProxy', () => {
    it('needs HAProxy under CI', () => {
      throw new Error(`CI is set, but there is ${NO_HAPROXY}`);
    });
  });
} else {
  describe.skipIf(!haproxy || !nats)(haproxy ? 'rolling restart behind HAProxy' : `rolling restart behind HAProxy — SKIPPED: ${NO_HAPROXY}`, () => {
    let database: TestDatabase;
    let client: pg.Client;
    let balancer: Balancer;
    let publicUrl: string;
    const replicas: Replica[] = [];
    const stream = `ROLLING_${randomBytes(4).toString('hex')}`;

    beforeAll(async () => {
      database = await createTestDatabase(inject('pgAdminUrl'));
      client = new pg.Client({ connectionString: database.url });
      await client.connect();
      const frontends = new Map<ModuleName, number>();
      for (const module of MODULE_NAMES) frontends.set(module, await freePort());
      for (const module of MODULE_NAMES) {
        for (const n of [1, 2]) {
          const port = await freePort();
          const env: ServerEnv = {
            NODE_ENV: 'test',
            HOST: '127.0.0.1',
            PORT: String(port),
            LOG_LEVEL: 'info',
            DATABASE_URL: database.url,
            AUTH_JWT_SECRET: TEST_SECRET,
            SERVICE_SECRET,
            NATS_URL: nats!.url,
            NATS_STREAM: stream,
            NATS_SUBJECT_PREFIX: `rolling.${stream.toLowerCase()}`,
            OUTBOX_SWEEP_INTERVAL_MS: '200',
            OUTBOX_RETRY_BASE_MS: '50',
            NOTIFICATION_SWEEP_INTERVAL_MS: '200',
            NOTIFICATION_RETRY_BASE_MS: '50',
            SHUTDOWN_DRAIN_MS: String(DRAIN_MS),
            SHUTDOWN_TIMEOUT_MS: '20000',
            MODULES: module,
            // Every other module through its balancer frontend, never a replica directly.
            ...Object.fromEntries(MODULE_NAMES.filter((other) => other !== module).map((other) => [`${other.toUpperCase()}_URL`, `http://127.0.0.1:${frontends.get(other)}`])),
          };
          replicas.push({ name: `${module}-${n}`, module, port, env, server: undefined as unknown as ServerProcess });
        }
      }
      const publicPort = await freePort();
      publicUrl = `http://127.0.0.1:${publicPort}`;
      balancer = await startHaproxy(haproxy!, {
        publicPort,
        statsPort: await freePort(),
        backends: MODULE_NAMES.map((module) => ({
          name: module,
          port: frontends.get(module)!,
          servers: replicas.filter((replica) => replica.module === module).map(({ name, port }) => ({ name, port })),
        })),
      });
      // One replica of each module, then the others: 2 cores, 8 processes.
      for (const n of ['1', '2']) {
        await Promise.all(replicas.filter((r) => r.name.endsWith(`-${n}`)).map(async (r) => (r.server = await startServer(r.env, { timeoutMs: 120_000 }))));
      }
      for (const r of replicas) await balancer.waitUp(r.module, r.name);
    });

    afterAll(async () => {
      await Promise.all(replicas.map((r) => r.server?.stop('SIGTERM')));
      await balancer?.stop();
      await client?.end();
      await database?.drop();
      if (nats) await deleteNatsStream(nats.url, stream);
    });

    it('restarts every replica under load: no failed request, no lost or doubled effect', { timeout: 600_000 }, async () => {
      const adminToken = await signToken(TEST_SECRET, { sub: ADMIN_ID, roles: ['admin'] });
      const run = randomUUID().slice(0, 8);
      const stats = { requests: 0, failures: [] as string[] };

      /** One request through the public frontend; anything but `expected` (or no answer) is a failure. */
      const send = async (method: string, path: string, expected: number, options: { token: string; body?: unknown; headers?: Record<string, string> }) => {
        stats.requests += 1;
        try {
          const response = await fetch(publicUrl + path, {
            method,
            headers: { authorization: `Bearer ${options.token}`, ...(options.body ? { 'content-type': 'application/json' } : {}), ...options.headers },
            ...(options.body ? { body: JSON.stringify(options.body) } : {}),
          });
          const text = await response.text();
          if (response.status !== expected) {
            stats.failures.push(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
            return undefined;
          }
          return JSON.parse(text) as any;
        } catch (error) {
          stats.failures.push(`${method} ${path}: ${(error as Error).message} ${String((error as Error).cause ?? '')}`);
          return undefined;
        }
      };
      /** Polls `path` until `done` holds for its body; false when it never did. */
      const until = async (path: string, token: string, done: (body: any) => boolean) => {
        const deadline = Date.now() + ASYNC_MS;
        while (Date.now() < deadline) {
          const body = await send('GET', path, 200, { token });
          if (body && done(body)) return true;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        stats.failures.push(`GET ${path}: never reached the expected state in ${ASYNC_MS} ms`);
        return false;
      };

      const checkouts: Checkout[] = [];
      const checkout = async (worker: number, n: number) => {
        const key = `${run}-${worker}-${n}`;
        const cancelled = n % 4 === 3;
        const product = await send('POST', '/api/products', 201, {
          token: adminToken,
          headers: { 'idempotency-key': `product-${key}` },
          body: { sku: `ROLL-${key}`, name: `Rolling mug ${key}`, price_cents: 1_000, stock_quantity: 10 },
        });
        if (!product) return;
        const token = await signToken(TEST_SECRET, { sub: randomUUID() });
        const order = await send('POST', '/api/orders', 201, { token, body: { items: [{ product_id: product.id, quantity: 2 }], idempotency_key: `order-${key}` } });
        if (!order) return;
        checkouts.push({ orderId: order.id, productId: product.id, cancelled });
        if (!(await until(`/api/products/${product.id}`, adminToken, (p) => p.reserved_quantity === 2))) return;
        const paid = await send('POST', '/api/payments', 201, { token, body: { order_id: order.id, payment_method: 'pm_card_visa', idempotency_key: `pay-${key}` } });
        if (!paid) return;
        if (!(await until(`/api/orders/${order.id}`, token, (o) => o.status === 'confirmed'))) return;
        if (cancelled) await send('POST', `/api/orders/${order.id}/cancel`, 200, { token, body: { reason: 'rolling restart' } });
      };

      let stopping = false;
      const clients = Array.from({ length: CLIENTS }, async (_, worker) => {
        for (let n = 0; !stopping; n += 1) await checkout(worker, n);
      });

      const started = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 2_000)); // the load is under way
      const exits: string[] = [];
      // One replica at a time, alternating modules: SIGTERM, wait for the exit, start, back in the balancer.
      const order = [1, 2].flatMap((n) => MODULE_NAMES.map((module) => replicas.find((r) => r.name === `${module}-${n}`)!));
      let takenOutWhileDraining = 0;
      for (const replica of order) {
        const running = replica.server;
        const stopped = running.stop('SIGTERM');
        // The drain at work: the balancer sees /ready fail and takes the replica out while it still
        // listens (without a drain it only notices once connections are refused, and must retry them).
        for (;;) {
          if (running.child.exitCode !== null || running.child.signalCode !== null) break;
          if ((await balancer.states()).get(`${replica.module}/${replica.name}`)?.startsWith('DOWN')) {
            if (await accepts(replica.port)) takenOutWhileDraining += 1;
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const exit = await stopped;
        if (exit.code !== 0) exits.push(`${replica.name}: ${JSON.stringify(exit)}\n${replica.server.stderr()}`);
        replica.server = await startServer(replica.env, { timeoutMs: 120_000 });
        await balancer.waitUp(replica.module, replica.name);
      }
      const restartedMs = Date.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      stopping = true;
      await Promise.all(clients);
      const durationMs = Date.now() - started;
      const { retried, redispatched } = await balancer.retries();

      console.log(
        `rolling restart: ${stats.requests} requests, ${stats.failures.length} failed, ${checkouts.length} checkouts ` +
          `(${checkouts.filter((c) => c.cancelled).length} cancelled), ${order.length} restarts in ${(restartedMs / 1000).toFixed(1)} s, ` +
          `load for ${(durationMs / 1000).toFixed(1)} s, ${CLIENTS} clients, drain ${DRAIN_MS} ms; ` +
          `taken out by HAProxy while still listening: ${takenOutWhileDraining}/${order.length}; HAProxy retries ${retried}, redispatches ${redispatched}`,
      );
      expect(exits, 'every replica stops cleanly on SIGTERM').toEqual([]);
      expect(stats.failures, 'every request answered as expected').toEqual([]);
      // Not the balancer's retries hiding refused connections: each replica left the pool while it still listened.
      expect(takenOutWhileDraining, 'replicas taken out by the balancer while still listening').toBe(order.length);
      expect(checkouts.length).toBeGreaterThan(order.length);

      // Nothing lost, nothing doubled: every order in its final state, stock, payments, notifications.
      const ids = checkouts.map((c) => c.orderId);
      const cancelled = new Set(checkouts.filter((c) => c.cancelled).map((c) => c.orderId));
      await eventually(async () => {
        const orders = await client.query<{ id: string; status: string }>('SELECT id, status FROM orders.orders');
        expect(orders.rows.length, 'no order the clients did not see').toBe(ids.length);
        for (const row of orders.rows) expect([row.id, row.status]).toEqual([row.id, cancelled.has(row.id) ? 'cancelled' : 'confirmed']);

        const products = await client.query<{ id: string; stock_quantity: number; reserved_quantity: number; active: number; reservations: number }>(`
          SELECT p.id, p.stock_quantity, p.reserved_quantity,
                 coalesce(sum(r.quantity) FILTER (WHERE r.status = 'active'), 0)::int AS active, count(r.id)::int AS reservations
          FROM inventory.products p LEFT JOIN inventory.reservations r ON r.product_id = p.id GROUP BY p.id`);
        const byProduct = new Map(checkouts.map((c) => [c.productId, c]));
        expect(products.rows.length).toBe(byProduct.size);
        for (const p of products.rows) {
          const reserved = byProduct.get(p.id)!.cancelled ? 0 : 2;
          expect(p, 'one reservation per order, reserved_quantity its active sum').toEqual({ ...p, stock_quantity: 10, reserved_quantity: reserved, active: reserved, reservations: 1 });
        }

        const payments = await client.query<{ order_id: string; statuses: string[] }>('SELECT order_id, array_agg(status) AS statuses FROM payments.payments GROUP BY order_id');
        expect(payments.rows.length).toBe(ids.length);
        for (const p of payments.rows) expect([p.order_id, p.statuses]).toEqual([p.order_id, [cancelled.has(p.order_id) ? 'refunded' : 'captured']]);

        const notes = await client.query<{ order_id: string; kinds: string[] }>('SELECT order_id, array_agg(kind ORDER BY kind) AS kinds FROM notifications.notifications GROUP BY order_id');
        expect(notes.rows.length).toBe(ids.length);
        for (const n of notes.rows) expect([n.order_id, n.kinds]).toEqual([n.order_id, cancelled.has(n.order_id) ? ['order_cancelled', 'order_confirmed'] : ['order_confirmed']]);

        const stuck = await client.query<{ module: string; n: number }>(`
          SELECT 'orders' AS module, count(*)::int AS n FROM orders.outbox WHERE status <> 'delivered'
          UNION ALL SELECT 'inventory', count(*)::int FROM inventory.outbox WHERE status <> 'delivered'
          UNION ALL SELECT 'payments', count(*)::int FROM payments.outbox WHERE status <> 'delivered'`);
        expect(stuck.rows, 'every outbox delivered').toEqual([{ module: 'orders', n: 0 }, { module: 'inventory', n: 0 }, { module: 'payments', n: 0 }]);
      }, 60_000, 250);
    });
  });
}
