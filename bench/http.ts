import { randomUUID } from 'node:crypto';
import autocannon, { type Result } from 'autocannon';
import { APP_ARGS, JWT_SECRET, appEnv, cpuTicks, log, quiet as quietProcess, round, seedProducts, spawnServer, tempDir, token, type BenchEnv, type Child } from './lib.ts';

/**
 * post_orders and get_order: the app (a real process, as `npm start` runs it) against the bare
 * baseline (bench/baseline/server.ts), each on a database of its own on the same server, in
 * the same run, alternately. autocannon, 50 connections; every POST is a new customer (its own
 * token) with its own idempotency key and two items; every GET reads an order created by the
 * POST run, with its owner's token.
 */

export interface HttpFigures {
  requests_per_s: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  non2xx: number;
  /** µs of the server process's CPU per request (/proc); for the app's POST, its saga's work included (counted until it is idle again). */
  server_cpu_us: number;
}

export interface HttpResults {
  /** `ratio`: platform / baseline req/s; `cpu_ratio`: platform / baseline server CPU per request. */
  post_orders: { platform: HttpFigures; baseline: HttpFigures; ratio: number; cpu_ratio: number };
  get_order: { platform: HttpFigures; baseline: HttpFigures; ratio: number; cpu_ratio: number };
  /** The app's RSS while serving POST /api/orders at 50 connections (MB, peak of 2 samples/s). */
  rssUnderLoadMb: number;
  /** GET /api/orders/:id with ACCESS_LOG=on against the same app with it off, alternated in the same run. */
  access_log: { off: HttpFigures; on: HttpFigures; ratio: number };
}

interface Target {
  readonly name: 'platform' | 'baseline' | 'access_log';
  readonly server: Child;
  readonly products: string[];
  /** Orders created by the measured POST runs, with their owner's token (GET reads them). */
  readonly created: Array<{ id: string; token: string }>;
}

export async function runHttp(env: BenchEnv): Promise<HttpResults> {
  const { duration, warmup, connections, quick } = env.settings;
  const [appDb, baseDb] = [await env.database(), await env.database()];
  const dataDir = await tempDir(env, 'shop-bench-app-');
  log('http: starting the app and the baseline');
  const app = await spawnServer(APP_ARGS, appEnv(appDb.url, dataDir));
  env.defer(() => app.stop());
  const base = await spawnServer(['--import', 'tsx', 'bench/baseline/server.ts'], { DATABASE_URL: baseDb.url, AUTH_JWT_SECRET: JWT_SECRET }, { readyPath: '/health' });
  env.defer(() => base.stop());
  const targets: Target[] = [
    { name: 'baseline', server: base, products: await seedProducts(base.url), created: [] },
    { name: 'platform', server: app, products: await seedProducts(app.url), created: [] },
  ];

  const rounds = quick ? 1 : 2;
  const post: Record<string, Measured[]> = { platform: [], baseline: [] };
  let rssUnderLoadMb = 0;
  for (let round = 0; round < rounds; round++) {
    for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
      await quiet(target.server);
      log(`http: POST /api/orders, ${target.name} (warm-up ${warmup} s, then ${duration} s)`);
      await postOrders(target, warmup, connections, undefined);
      await quiet(target.server);
      const sampler = target.name === 'platform' ? sampleRss(target.server) : undefined;
      // The app's POST goes on working after the load (the saga reserves each order): counted until it is idle.
      post[target.name]!.push(await withCpu(target, () => postOrders(target, duration, connections, target.created), target.name === 'platform'));
      if (sampler) rssUnderLoadMb = Math.max(rssUnderLoadMb, await sampler.stop());
    }
  }
  // The same app on the same database with ACCESS_LOG=on (its lines read and dropped, as a log
  // shipper would), measured in the same GET rounds: the price of a line per request.
  const logged = await spawnServer(APP_ARGS, appEnv(appDb.url, await tempDir(env, 'shop-bench-log-'), { ACCESS_LOG: 'on' }));
  env.defer(() => logged.stop());
  const platform = targets[1]!;
  const getTargets: Target[] = [...targets, { name: 'access_log', server: logged, products: platform.products, created: platform.created }];
  const get: Record<string, Measured[]> = { platform: [], baseline: [], access_log: [] };
  for (let round = 0; round < rounds; round++) {
    for (const target of round % 2 === 0 ? getTargets : [...getTargets].reverse()) {
      await quiet(target.server);
      log(`http: GET /api/orders/:id, ${target.name} (warm-up ${warmup} s, then ${duration} s)`);
      await getOrders(target, warmup, connections);
      get[target.name]!.push(await withCpu(target, () => getOrders(target, duration, connections), false));
    }
  }
  const pair = (results: Record<string, Measured[]>) => {
    const platform = figuresOf(results.platform!);
    const baseline = figuresOf(results.baseline!);
    return { platform, baseline, ratio: round(platform.requests_per_s / baseline.requests_per_s, 3), cpu_ratio: round(platform.server_cpu_us / baseline.server_cpu_us, 3) };
  };
  const [off, on] = [figuresOf(get.platform!), figuresOf(get.access_log!)];
  return {
    post_orders: pair(post),
    get_order: pair(get),
    rssUnderLoadMb: round(rssUnderLoadMb, 1),
    access_log: { off, on, ratio: round(on.requests_per_s / off.requests_per_s, 3) },
  };
}

/** One measured load: autocannon's result and the server's CPU per request. */
export type Measured = { result: Result; serverUs: number };

/** The figures of a target's measured loads, averaged over the rounds. */
export function figuresOf(measured: Measured[]): HttpFigures {
  const results = measured.map((m) => m.result);
  return {
    requests_per_s: round(mean(results.map((r) => r.requests.average)), 1),
    p50_ms: round(mean(results.map((r) => r.latency.p50)), 2),
    p99_ms: round(mean(results.map((r) => r.latency.p99)), 2),
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    non2xx: results.reduce((sum, r) => sum + r.non2xx, 0),
    server_cpu_us: Math.round(mean(measured.map((m) => m.serverUs))),
  };
}

/** A load, and the µs of CPU each of its requests cost the server process, until it is idle again if `untilIdle`. */
export async function withCpu(target: { readonly server: Child }, load: () => Promise<Result>, untilIdle: boolean): Promise<Measured> {
  const pid = target.server.child.pid!;
  const before = cpuTicks(pid);
  const result = await load();
  if (untilIdle) await quiet(target.server);
  return { result, serverUs: Math.round(((cpuTicks(pid) - before) * 10_000) / Math.max(1, result.requests.total)) };
}

/** A server under load, as the growth group measures it too. */
export interface LoadTarget {
  readonly name: string;
  readonly server: Child;
  readonly products: readonly string[];
}

/** An order and its owner's token: what a GET needs. */
export interface OrderRef {
  readonly id: string;
  readonly token: string;
}

/** autocannon POST /api/orders: each request a new customer (its own token and key), two items; 201s are kept in `created` (up to 50,000). */
export async function postOrders(target: LoadTarget, duration: number, connections: number, created: OrderRef[] | undefined): Promise<Result> {
  const [first, second] = target.products as [string, string];
  const result = await autocannon({
    url: target.server.url,
    connections,
    duration,
    requests: [
      {
        method: 'POST',
        path: '/api/orders',
        setupRequest: (request, context) => {
          const customer = randomUUID();
          const bearer = token(customer);
          context.token = bearer;
          return {
            ...request,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
            body: JSON.stringify({
              items: [
                { product_id: first, quantity: 1 },
                { product_id: second, quantity: 2 },
              ],
              idempotency_key: `bench-${customer}`,
            }),
          };
        },
        onResponse: (status, body, context) => {
          if (created && status === 201 && created.length < 50_000) created.push({ id: JSON.parse(body).id, token: context.token as string });
        },
      },
    ],
  });
  check(target, 'POST /api/orders', result);
  return result;
}

/** autocannon GET /api/orders/:id, each with its owner's token: the orders `target.created` in turn, or whatever `pick` chooses. */
export async function getOrders(target: LoadTarget & { readonly created?: readonly OrderRef[] }, duration: number, connections: number, pick?: () => OrderRef): Promise<Result> {
  const orders = target.created ?? [];
  if (!pick && orders.length === 0) throw new Error(`no orders were created on the ${target.name}`);
  let next = 0;
  const choose = pick ?? (() => orders[next++ % orders.length]!);
  const result = await autocannon({
    url: target.server.url,
    connections,
    duration,
    requests: [
      {
        method: 'GET',
        path: '/api/orders/x',
        setupRequest: (request) => {
          const order = choose();
          return { ...request, path: `/api/orders/${order.id}`, headers: { authorization: `Bearer ${order.token}` } };
        },
      },
    ],
  });
  check(target, 'GET /api/orders/:id', result);
  return result;
}

function check(target: LoadTarget, what: string, result: Result): void {
  if (result.errors > 0 || result.non2xx > 0) {
    log(`http: ${what} on the ${target.name}: ${result.errors} errors, ${result.non2xx} non-2xx (${JSON.stringify(result.statusCodeStats)})`);
  }
  if ((result['2xx'] ?? 0) === 0) throw new Error(`${what} on the ${target.name} answered no 2xx at all:\n${target.server.output().slice(-2000)}`);
}

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

/** Waits until the server's process is nearly idle (the app's saga finishing its backlog), at most 60 s. */
const quiet = (server: Child) => quietProcess(server.child.pid!);

function sampleRss(server: Child): { stop(): Promise<number> } {
  let peak = 0;
  const timer = setInterval(() => void server.rssMb().then((mb) => (peak = Math.max(peak, mb)), () => undefined), 500);
  return {
    async stop() {
      clearInterval(timer);
      peak = Math.max(peak, await server.rssMb());
      return peak;
    },
  };
}
