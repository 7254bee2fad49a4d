import { createHash } from 'node:crypto';
import type { Result } from 'autocannon';
import pg from 'pg';
import { Database, MessagingRetention, RETENTION_DEFAULTS, createLogger } from '@shop/platform';
import { getOrders, postOrders, type OrderRef } from './http.ts';
import { APP_ARGS, appEnv, cpuPerRequest, log, median, postmasterOf, quiet, round, seedProducts, spawnServer, tempDir, token, type BenchEnv, type Child } from './lib.ts';

/**
 * growth: POST /api/orders and GET /api/orders/:id on an empty database, then on databases that
 * already hold 100,000 and 1,000,000 orders (100,000 only in `--quick`) with everything four weeks
 * of traffic leave behind: the orders and their items, the reservations (committed, or released
 * for the 1 in 10 cancelled), the payments, the notifications, the closed-order markers, and every
 * module's outbox and inbox rows, delivered and handled. Inserted with set-based SQL
 * (generate_series), then VACUUM ANALYZE, as autovacuum leaves a table that filled over weeks.
 *
 * Each size is measured twice on its database (`pruned` only in `--quick`): `kept`, everything
 * still there (no retention: how it was before pruning existed), then `pruned`, after the platform's MessagingRetention (the
 * class and statements the app runs) removed what the default retentions (outbox 7 days, inbox
 * 14 days) let go, with the app's own pruning on. Each against the empty database as a ratio:
 * requests per second (higher is better) and the server's CPU per request (lower is better).
 *
 * The GET load reads orders picked uniformly from all the database holds (the history and those
 * the POST run created), so a bigger database is also a colder one; the POST load is the
 * post_orders one (a new customer each, two items, on two hot products).
 */

export interface GrowthFigures {
  requests_per_s: number;
  p50_ms: number;
  p99_ms: number;
  /** µs of CPU per request: the app's process, and the PostgreSQL server's processes. */
  server_cpu_us: number;
  postgres_cpu_us: number;
  errors: number;
}

interface Ratios {
  /** requests per second against the empty database's. */
  ratio: number;
  /** server CPU per request against the empty database's. */
  cpu_ratio: number;
}

export interface GrowthMeasure {
  post_orders: GrowthFigures;
  get_order: GrowthFigures;
  /** GET /metrics on the idle app, median of 5 (ms): it counts every module's outbox rows by status. */
  metrics_scrape_ms: number;
}

export interface GrowthSize {
  orders: number;
  /** Rows per table after the fill (schema.table), then after pruning. */
  rows_kept: Record<string, number>;
  rows_pruned: Record<string, number>;
  fill_s: number;
  /** The catch-up pruning of the whole history: rows deleted and how long it took (batches of 10,000). */
  prune: { outbox_rows: number; inbox_rows: number; seconds: number; rows_per_s: number };
  /** Not measured in `--quick` (to keep it short). */
  kept?: { post_orders: GrowthFigures & Ratios; get_order: GrowthFigures & Ratios; metrics_scrape_ms: number };
  pruned: { post_orders: GrowthFigures & Ratios; get_order: GrowthFigures & Ratios; metrics_scrape_ms: number };
}

export interface GrowthResults {
  history_days: number;
  outbox_retention_days: number;
  inbox_retention_days: number;
  empty: GrowthMeasure;
  sizes: GrowthSize[];
}

const HISTORY_DAYS = 28;
/** Retentions long enough that nothing of the history goes: the `kept` runs. */
const KEEP_EVERYTHING = { OUTBOX_RETENTION: '3650d', INBOX_RETENTION: '3651d' };

export async function runGrowth(env: BenchEnv): Promise<GrowthResults> {
  const { quick } = env.settings;
  // Shorter loads than the http group's: five measurements (three in --quick, which must stay
  // short: 5 s each), each a POST and a GET run.
  const duration = quick ? 5 : 15;
  const warmup = quick ? 1 : 3;
  const sizes = quick ? [100_000] : [100_000, 1_000_000];

  const postmaster = await postmasterOf(env.pgAdminUrl);
  const measure = (app: Child, products: string[], history: number | undefined) => measureLoads(app, products, duration, warmup, env.settings.connections, history, postmaster);
  log('growth: the empty database');
  const emptyDb = await env.database();
  const empty = await withApp(env, emptyDb.url, {}, async (app, products) => measure(app, products, undefined));

  const results: GrowthSize[] = [];
  for (const orders of sizes) {
    const db = await env.database();
    let fill = { seconds: 0, rows: {} as Record<string, number> };
    const kept = await withApp(env, db.url, KEEP_EVERYTHING, async (app, products) => {
      log(`growth: inserting ${orders.toLocaleString('en')} orders of history and all they left behind`);
      fill = await fillHistory(db.url, orders, products);
      log(`growth: filled in ${fill.seconds} s: ${JSON.stringify(fill.rows)}`);
      return quick ? undefined : measure(app, products, orders);
    });
    const prune = await pruneHistory(db.url);
    log(`growth: pruned ${prune.outbox_rows + prune.inbox_rows} rows in ${prune.seconds} s`);
    const rowsPruned = await countRows(db.url);
    const pruned = await withApp(env, db.url, {}, async (app, products) => measure(app, products, orders));
    results.push({ orders, rows_kept: fill.rows, rows_pruned: rowsPruned, fill_s: fill.seconds, prune, ...(kept ? { kept: against(kept, empty) } : {}), pruned: against(pruned, empty) });
  }
  return {
    history_days: HISTORY_DAYS,
    outbox_retention_days: RETENTION_DEFAULTS.outboxRetentionMs / 86_400_000,
    inbox_retention_days: RETENTION_DEFAULTS.inboxRetentionMs / 86_400_000,
    empty,
    sizes: results,
  };
}

function against(measured: GrowthMeasure, empty: GrowthMeasure): GrowthSize['pruned'] {
  const with_ = (now: GrowthFigures, before: GrowthFigures) => ({
    ...now,
    ratio: round(now.requests_per_s / before.requests_per_s, 3),
    cpu_ratio: round(now.server_cpu_us / before.server_cpu_us, 3),
  });
  return {
    post_orders: with_(measured.post_orders, empty.post_orders),
    get_order: with_(measured.get_order, empty.get_order),
    metrics_scrape_ms: measured.metrics_scrape_ms,
  };
}

/** Starts the app on `url` (with `extra` settings), the same two products every time, and stops it after `work`. */
async function withApp<T>(env: BenchEnv, url: string, extra: Record<string, string>, work: (app: Child, products: string[]) => Promise<T>): Promise<T> {
  const app = await spawnServer(APP_ARGS, appEnv(url, await tempDir(env, 'shop-bench-growth-'), extra));
  try {
    const products = await productsOf(url, app);
    return await work(app, products);
  } finally {
    await app.stop();
  }
}

/** The bench's two products on this database: made through the API the first time, read back after. */
async function productsOf(url: string, app: Child): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>(`SELECT id FROM inventory.products WHERE sku LIKE 'BENCH-%' ORDER BY price_cents`);
    if (rows.length >= 2) return rows.slice(0, 2).map((row) => row.id);
  } finally {
    await client.end();
  }
  return seedProducts(app.url);
}

async function measureLoads(
  app: Child,
  products: string[],
  duration: number,
  warmup: number,
  connections: number,
  history: number | undefined,
  postmaster: number | undefined,
): Promise<GrowthMeasure> {
  const pid = app.child.pid!;
  const target = { name: 'platform', server: app, products };
  const created: OrderRef[] = [];
  await quiet(pid);
  log(`growth: POST /api/orders, ${history?.toLocaleString('en') ?? 'no'} orders before (warm-up ${warmup} s, then ${duration} s)`);
  await postOrders(target, warmup, connections, undefined);
  await quiet(pid);
  const post = await cpuPerRequest(pid, () => postOrders(target, duration, connections, created), postmaster);
  await quiet(pid); // the saga's backlog is not the reads' cost
  // Uniform over every order the database holds: the history's (ids derived from their number) and the new ones.
  const total = () => (history ?? 0) + created.length;
  const pick = (): OrderRef => {
    const k = Math.floor(Math.random() * total());
    if (k < (history ?? 0)) return { id: historyUuid('order', k + 1), token: token(historyUuid('customer', k + 1)) };
    return created[k - (history ?? 0)]!;
  };
  log(`growth: GET /api/orders/:id (warm-up ${warmup} s, then ${duration} s)`);
  await getOrders(target, warmup, connections, pick);
  const get = await cpuPerRequest(pid, () => getOrders(target, duration, connections, pick), postmaster);
  await quiet(pid);
  const scrapes: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const response = await fetch(`${app.url}/metrics`);
    await response.text();
    scrapes.push(performance.now() - t0);
  }
  return { post_orders: figures(post), get_order: figures(get), metrics_scrape_ms: round(median(scrapes), 1) };
}

function figures(measured: { result: Result; serverUs: number; postgresUs: number }): GrowthFigures {
  const { result } = measured;
  return {
    requests_per_s: round(result.requests.average, 1),
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    server_cpu_us: measured.serverUs,
    postgres_cpu_us: measured.postgresUs,
    errors: result.errors + result.non2xx,
  };
}

/** The uuid of the history's `i`-th order, customer, event...: md5 of `kind:i`, as the fill's SQL makes it. */
function historyUuid(kind: string, i: number): string {
  const h = createHash('md5').update(`${kind}:${i}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * `orders` orders spread evenly over the last four weeks, 9 in 10 delivered (created, reserved,
 * paid, confirmed, shipped, delivered) and 1 in 10 cancelled before payment (created, reserved,
 * cancelled, released), with every row each module's handlers would have written for them.
 * One statement per table, each row's values derived from its order's number.
 */
export async function fillHistory(url: string, orders: number, products: string[]): Promise<{ seconds: number; rows: Record<string, number> }> {
  const started = performance.now();
  {
    const [a, b] = products as [string, string];
    const step = (HISTORY_DAYS * 86_400) / orders;
    // The order's number → its time, ids and fate; every statement reads the same.
    const history = `
      CREATE TEMP TABLE history AS
      SELECT i, md5('order:' || i)::uuid AS order_id, md5('customer:' || i)::uuid AS customer_id, i % 10 = 0 AS cancelled,
             now() - interval '${HISTORY_DAYS} days' + make_interval(secs => (i - 1) * ${step}) AS t
      FROM generate_series(1, ${orders}) AS i`;
    const items = `jsonb_build_array(jsonb_build_object('product_id', '${a}', 'quantity', 1, 'unit_price_cents', 1250), jsonb_build_object('product_id', '${b}', 'quantity', 2, 'unit_price_cents', 1251))`;
    const lines = `jsonb_build_array(jsonb_build_object('product_id', '${a}', 'quantity', 1), jsonb_build_object('product_id', '${b}', 'quantity', 2))`;
    const total = 1250 + 2 * 1251;
    // (event type, seconds after the order, for a cancelled order, for a delivered one, consumers' schemas).
    const events = `(VALUES
      ('OrderCreated', 0, true, true), ('OrderConfirmed', 300, false, true), ('OrderShipped', 86400, false, true),
      ('OrderDelivered', 259200, false, true), ('OrderCancelled', 600, true, false),
      ('StockReserved', 1, true, true), ('StockReleased', 601, true, false), ('PaymentCaptured', 299, false, true)
    ) AS e(type, secs, if_cancelled, if_delivered)`;
    const at = (secs: string) => `least(now(), h.t + make_interval(secs => ${secs}))`;
    const outbox = (schema: string, types: string[], payload: string) => `
      INSERT INTO ${schema}.outbox (id, event_type, event_version, payload, traceparent, occurred_at, status, attempts, next_attempt_at, delivered_at)
      SELECT md5(e.type || ':' || h.i)::uuid, e.type, 1, ${payload}, '00-' || md5('trace:' || h.i) || '-' || left(md5(e.type || h.i), 16) || '-01',
             ${at('e.secs')}, 'delivered', 1, ${at('e.secs')}, ${at('e.secs + 0.01')}
      FROM history h CROSS JOIN ${events}
      WHERE e.type IN (${types.map((type) => `'${type}'`).join(', ')}) AND CASE WHEN h.cancelled THEN e.if_cancelled ELSE e.if_delivered END
      ORDER BY h.i, e.secs`;
    const inbox = (schema: string, types: string[]) => `
      INSERT INTO ${schema}.inbox (consumer, event_id, event_type, handled_at)
      SELECT '${schema}', md5(e.type || ':' || h.i)::uuid, e.type, ${at('e.secs + 0.02')}
      FROM history h CROSS JOIN ${events}
      WHERE e.type IN (${types.map((type) => `'${type}'`).join(', ')}) AND CASE WHEN h.cancelled THEN e.if_cancelled ELSE e.if_delivered END
      ORDER BY h.i, e.secs`;
    const orderPayload = `jsonb_build_object('order_id', h.order_id, 'customer_id', h.customer_id, 'items', ${items}, 'total_cents', ${total})`;
    const bySchema: Record<string, string[]> = {
      orders: [
      `INSERT INTO orders.orders (id, customer_id, status, total_cents, cancel_reason, idempotency_key, request_hash, created_at, updated_at)
       SELECT order_id, customer_id, CASE WHEN cancelled THEN 'cancelled' ELSE 'delivered' END, ${total}, CASE WHEN cancelled THEN 'changed my mind' END,
              'bench-' || customer_id, encode(sha256(order_id::text::bytea), 'hex'), t, least(now(), t + interval '3 days') FROM history`,
      `INSERT INTO orders.order_items (order_id, line, product_id, quantity, unit_price_cents)
       SELECT h.order_id, l.line, l.product_id, l.quantity, l.price FROM history h CROSS JOIN (VALUES (0, '${a}'::uuid, 1, 1250), (1, '${b}'::uuid, 2, 1251)) AS l(line, product_id, quantity, price)`,
      outbox('orders', ['OrderCreated', 'OrderConfirmed', 'OrderShipped', 'OrderDelivered', 'OrderCancelled'], orderPayload),
      inbox('orders', ['PaymentCaptured']),
      ],
      inventory: [
      `INSERT INTO inventory.reservations (id, order_id, product_id, quantity, status, created_at, updated_at)
       SELECT md5('reservation:' || h.i || ':' || l.line)::uuid, h.order_id, l.product_id, l.quantity, CASE WHEN h.cancelled THEN 'released' ELSE 'committed' END,
              h.t, least(now(), h.t + CASE WHEN h.cancelled THEN interval '10 minutes' ELSE interval '1 day' END)
       FROM history h CROSS JOIN (VALUES (0, '${a}'::uuid, 1), (1, '${b}'::uuid, 2)) AS l(line, product_id, quantity)`,
      `INSERT INTO inventory.closed_orders (order_id, closed_at) SELECT order_id, least(now(), t + interval '10 minutes') FROM history WHERE cancelled`,
      outbox('inventory', ['StockReserved', 'StockReleased'], `jsonb_build_object('order_id', h.order_id, 'items', ${lines})`),
      inbox('inventory', ['OrderCreated', 'OrderShipped', 'OrderCancelled']),
      ],
      payments: [
      `INSERT INTO payments.payments (id, order_id, customer_id, amount_cents, payment_method, status, provider_ref, idempotency_key, request_hash, created_at, updated_at)
       SELECT md5('payment:' || i)::uuid, order_id, customer_id, ${total}, 'pm_card_visa', 'captured', 'pi_' || left(md5('pi:' || i), 24), 'pay-' || i,
              encode(sha256(('payment:' || i)::bytea), 'hex'), least(now(), t + interval '298 seconds'), least(now(), t + interval '299 seconds')
       FROM history WHERE NOT cancelled`,
      `INSERT INTO payments.closed_orders (order_id, closed_at) SELECT order_id, least(now(), t + interval '10 minutes') FROM history WHERE cancelled`,
      outbox('payments', ['PaymentCaptured'], `jsonb_build_object('payment_id', md5('payment:' || h.i)::uuid, 'order_id', h.order_id, 'customer_id', h.customer_id, 'amount_cents', ${total}, 'provider_ref', 'pi_' || left(md5('pi:' || h.i), 24))`),
      inbox('payments', ['OrderCancelled']),
      ],
      notifications: [
      // one per order event, nobody's contact known (skipped), as with no SMTP_URL
      `INSERT INTO notifications.notifications (id, event_id, customer_id, order_id, kind, channel, status, content, created_at, updated_at)
       SELECT md5('notification:' || e.type || ':' || h.i)::uuid, md5(e.type || ':' || h.i)::uuid, h.customer_id, h.order_id,
              CASE e.type WHEN 'OrderConfirmed' THEN 'order_confirmed' WHEN 'OrderShipped' THEN 'order_shipped' ELSE 'order_cancelled' END, 'none', 'skipped',
              jsonb_build_object('subject', 'Your order ' || h.order_id, 'text', 'Your order of ${total} cents: ' || e.type), ${at('e.secs + 0.03')}, ${at('e.secs + 0.03')}
       FROM history h CROSS JOIN ${events}
       WHERE e.type IN ('OrderConfirmed', 'OrderShipped', 'OrderCancelled') AND CASE WHEN h.cancelled THEN e.if_cancelled ELSE e.if_delivered END`,
      inbox('notifications', ['OrderConfirmed', 'OrderShipped', 'OrderCancelled']),
      ],
    };
    // A connection per module schema, side by side (each its own temp table): the fill is index
    // maintenance bound, one core each.
    const took: string[] = [];
    await Promise.all(
      Object.entries(bySchema).map(async ([schema, statements]) => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        const timed = async (what: string, statement: string) => {
          const t0 = performance.now();
          await client.query(statement);
          took.push(`${what} ${Math.round(performance.now() - t0)} ms`);
        };
        try {
          await client.query(history);
          for (const statement of statements) await timed(/INTO (\S+)/.exec(statement)?.[1] ?? '?', statement);
          await client.query('DROP TABLE history');
          // What autovacuum leaves on tables that filled over weeks: visibility map set, statistics current.
          const tables = (await client.query<{ name: string }>(`SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables WHERE schemaname = $1`, [schema])).rows;
          await timed(`VACUUM ${schema}`, `VACUUM (ANALYZE) ${tables.map((table) => table.name).join(', ')}`);
        } finally {
          await client.end();
        }
      }),
    );
    log(`growth: fill ${took.join(', ')}`);
  }
  return { seconds: round((performance.now() - started) / 1000, 1), rows: await countRows(url) };
}

const TABLES = [
  'orders.orders',
  'orders.order_items',
  'orders.outbox',
  'orders.inbox',
  'inventory.reservations',
  'inventory.outbox',
  'inventory.inbox',
  'payments.payments',
  'payments.outbox',
  'payments.inbox',
  'notifications.notifications',
  'notifications.outbox',
  'notifications.inbox',
];

async function countRows(url: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const counts: Record<string, number> = {};
    for (const table of TABLES) counts[table] = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
    return counts;
  } finally {
    await client.end();
  }
}

/** The catch-up a first start with retention does on a database that never pruned, with the app's own class; then VACUUM ANALYZE. */
async function pruneHistory(url: string): Promise<GrowthSize['prune']> {
  const database = new Database({ url });
  const started = performance.now();
  let outbox = 0;
  let inbox = 0;
  try {
    for (const schema of ['orders', 'inventory', 'payments', 'notifications']) {
      const pruner = new MessagingRetention({ db: database.forModule(schema), module: schema, logger: createLogger('silent') }, { ...RETENTION_DEFAULTS, batchSize: 10_000, pauseMs: 0 });
      const result = await pruner.prune();
      outbox += result.outbox;
      inbox += result.inbox;
    }
    const seconds = (performance.now() - started) / 1000;
    await database.pool.query('VACUUM (ANALYZE)');
    return { outbox_rows: outbox, inbox_rows: inbox, seconds: round(seconds, 1), rows_per_s: Math.round((outbox + inbox) / seconds) };
  } finally {
    await database.close();
  }
}
