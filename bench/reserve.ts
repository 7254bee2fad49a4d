import { randomUUID } from 'node:crypto';
import autocannon, { type Result } from 'autocannon';
import pg from 'pg';
import { APP_ARGS, JWT_SECRET, appEnv, cpuPerRequest, log, postmasterOf, quiet, round, seedProducts, spawnServer, tempDir, token, type BenchEnv, type Child } from './lib.ts';

/**
 * reserve_variant: the same business work on both sides. `POST /api/orders` on 20 hot products
 * (each order two different ones, picked at random), 50 connections, against the app (the order
 * commits, then OrderCreated → inventory reserves the stock, batched, in transactions of its own)
 * and against bench/baseline/server.ts with BASELINE_RESERVE=1 (a hand-written monolith reserving
 * in the order's own transaction: the product rows locked in id order, checked, updated, a
 * reservation row per item). The plain baseline (no reservation) runs the same load beside them,
 * so the report can say what reserving costs the monolith itself. Alternated; the full run
 * measures each twice.
 *
 * The app's figures include the saga: its server CPU per request is counted until the process is
 * idle again (every order reserved), and `reserved_per_s` is the orders reserved over the load
 * plus that drain, read from the database (what the business gets, not just the 201s).
 */

export interface ReserveFigures {
  requests_per_s: number;
  p50_ms: number;
  p99_ms: number;
  /** µs of CPU per order: the server process (the app's includes reserving it), and the PostgreSQL server's processes. */
  server_cpu_us: number;
  postgres_cpu_us: number;
  /** Orders whose stock was reserved, per second of load and drain. */
  reserved_per_s: number;
  /** After the load ended, how long until every order was reserved (the app's saga catching up; 0 for the baseline). */
  drain_s: number;
  errors: number;
}

export interface ReserveResults {
  products: number;
  platform: ReserveFigures;
  baseline_reserve: ReserveFigures;
  /** The baseline without the reservation (what post_orders compares with), on the same load. */
  baseline_plain: ReserveFigures;
  /** baseline_reserve / baseline_plain requests per second: what reserving in the order's transaction costs the monolith. */
  reserving_in_baseline: number;
  /** platform / baseline_reserve requests per second. */
  ratio: number;
  /** platform / baseline_reserve reserved orders per second. */
  reserved_ratio: number;
  /** platform / baseline_reserve server CPU per order. */
  cpu_ratio: number;
}

const PRODUCTS = 20;

interface Side {
  readonly name: 'platform' | 'baseline_reserve' | 'baseline_plain';
  readonly server: Child;
  readonly products: string[];
  /** Counts reserved orders on its database. */
  readonly reserved: () => Promise<number>;
}

export async function runReserve(env: BenchEnv): Promise<ReserveResults> {
  const { duration, warmup, connections, quick } = env.settings;
  const [appDb, baseDb, plainDb] = [await env.database(), await env.database(), await env.database()];
  log(`reserve_variant: the app and the baseline reserving in the order's transaction, ${PRODUCTS} hot products`);
  const app = await spawnServer(APP_ARGS, appEnv(appDb.url, await tempDir(env, 'shop-bench-reserve-')));
  env.defer(() => app.stop());
  const base = await spawnServer(['--import', 'tsx', 'bench/baseline/server.ts'], { DATABASE_URL: baseDb.url, AUTH_JWT_SECRET: JWT_SECRET, BASELINE_RESERVE: '1' }, { readyPath: '/health' });
  env.defer(() => base.stop());
  const plain = await spawnServer(['--import', 'tsx', 'bench/baseline/server.ts'], { DATABASE_URL: plainDb.url, AUTH_JWT_SECRET: JWT_SECRET }, { readyPath: '/health' });
  env.defer(() => plain.stop());
  const count = (url: string, sql: string) => async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return Number((await client.query<{ n: string }>(sql)).rows[0]!.n);
    } finally {
      await client.end();
    }
  };
  const sides: Side[] = [
    { name: 'baseline_reserve', server: base, products: await seedProducts(base.url, PRODUCTS), reserved: count(baseDb.url, 'SELECT count(DISTINCT order_id) AS n FROM bench_baseline.reservations') },
    { name: 'platform', server: app, products: await seedProducts(app.url, PRODUCTS), reserved: count(appDb.url, `SELECT count(DISTINCT order_id) AS n FROM inventory.reservations`) },
    { name: 'baseline_plain', server: plain, products: await seedProducts(plain.url, PRODUCTS), reserved: async () => 0 },
  ];
  const postmaster = await postmasterOf(env.pgAdminUrl);
  const rounds = quick ? 1 : 2;
  const measured: Record<Side['name'], ReserveFigures[]> = { platform: [], baseline_reserve: [], baseline_plain: [] };
  for (let round_ = 0; round_ < rounds; round_++) {
    for (const side of round_ % 2 === 0 ? sides : [...sides].reverse()) {
      const pid = side.server.child.pid!;
      await quiet(pid);
      log(`reserve_variant: POST /api/orders, ${side.name} (warm-up ${warmup} s, then ${duration} s)`);
      await load(side, warmup, connections);
      await quiet(pid);
      const before = await side.reserved();
      const started = performance.now();
      let ended = 0;
      // The load, then the drain (the app's saga reserving what is still queued), both charged to the orders.
      const { result, serverUs, postgresUs } = await cpuPerRequest(pid, async () => {
        const result = await load(side, duration, connections);
        ended = performance.now();
        await quiet(pid);
        return result;
      }, postmaster);
      const drained = performance.now();
      const reserved = (await side.reserved()) - before;
      measured[side.name].push({
        requests_per_s: round(result.requests.average, 1),
        p50_ms: result.latency.p50,
        p99_ms: result.latency.p99,
        server_cpu_us: serverUs,
        postgres_cpu_us: postgresUs,
        reserved_per_s: round(reserved / ((drained - started) / 1000), 1),
        // `quiet` needs a quarter second of calm to say so: that much is its resolution, not work.
        drain_s: round(Math.max(0, (drained - ended) / 1000 - 0.25), 2),
        errors: result.errors + result.non2xx,
      });
    }
  }
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const average = (runs: ReserveFigures[]): ReserveFigures => {
    const keys = Object.keys(runs[0]!) as Array<keyof ReserveFigures>;
    return Object.fromEntries(keys.map((key) => [key, key === 'errors' ? runs.reduce((sum, run) => sum + run.errors, 0) : round(mean(runs.map((run) => run[key])), 2)])) as unknown as ReserveFigures;
  };
  const platform = average(measured.platform);
  const baseline = average(measured.baseline_reserve);
  const baselinePlain = average(measured.baseline_plain);
  return {
    products: PRODUCTS,
    platform,
    baseline_reserve: baseline,
    baseline_plain: baselinePlain,
    reserving_in_baseline: round(baseline.requests_per_s / baselinePlain.requests_per_s, 3),
    ratio: round(platform.requests_per_s / baseline.requests_per_s, 3),
    reserved_ratio: round(platform.reserved_per_s / baseline.reserved_per_s, 3),
    cpu_ratio: round(platform.server_cpu_us / baseline.server_cpu_us, 3),
  };
}

/** Each request a new customer ordering 1 of one hot product and 2 of another. */
async function load(side: Side, duration: number, connections: number): Promise<Result> {
  const products = side.products;
  const result = await autocannon({
    url: side.server.url,
    connections,
    duration,
    requests: [
      {
        method: 'POST',
        path: '/api/orders',
        setupRequest: (request) => {
          const customer = randomUUID();
          const first = Math.floor(Math.random() * products.length);
          const second = (first + 1 + Math.floor(Math.random() * (products.length - 1))) % products.length;
          return {
            ...request,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token(customer)}` },
            body: JSON.stringify({
              items: [
                { product_id: products[first], quantity: 1 },
                { product_id: products[second], quantity: 2 },
              ],
              idempotency_key: `reserve-${customer}`,
            }),
          };
        },
      },
    ],
  });
  if (result.errors > 0 || result.non2xx > 0) log(`reserve_variant: ${side.name}: ${result.errors} errors, ${result.non2xx} non-2xx (${JSON.stringify(result.statusCodeStats)})`);
  if ((result['2xx'] ?? 0) === 0) throw new Error(`POST /api/orders on the ${side.name} answered no 2xx at all:\n${side.server.output().slice(-2000)}`);
  return result;
}
