import { createInventoryModule, inventoryMigrations } from '@shop/inventory';
import { InventoryMethods, type InventoryApi } from '@shop/inventory-contract';
import { Database, InProcessBus, Telemetry, createLogger, instrumentApi } from '@shop/platform';
import { RemoteModule, ServiceCredential, boundaryApi, handedTo, remoteApi } from '@shop/distribution';
import { APP_ARGS, SERVICE_SECRET, appEnv, deleteNatsStream, log, round, seedProducts, spawnServer, summary, tempDir, type BenchEnv } from './lib.ts';
import { MODULE_NAMES } from '../packages/app/src/topology-config.ts';

/**
 * boundary_call: `InventoryApi.getProducts([a, b])` (what orders calls per order) in process,
 * vs the same call through inventory's HTTP client to a process hosting inventory alone; and
 * the cost of what wraps every module call, against a direct call to a stub that does no I/O:
 * the one wrapper composition.ts builds per hand-over (`boundaryApi`: traffic count, signing as
 * the caller, the callee's instrumentation), and the three it replaced (`handedTo` around the
 * traffic counter around `instrumentApi`), measured side by side.
 */
export interface BoundaryResults {
  in_process_us: { p50: number; p99: number };
  http_client_us: { p50: number; p99: number } | { skipped: string };
  /** `wrapped_ns`: the one wrapper; `layered_ns`: the same duties as three wrappers, as before; `overhead_us`: one wrapper against a direct call. */
  wrapper: { direct_ns: number; wrapped_ns: number; layered_ns: number; overhead_us: number; calls: number };
}

export async function runBoundary(env: BenchEnv): Promise<BoundaryResults> {
  const { quick } = env.settings;
  const calls = quick ? 2_000 : 10_000;
  const db = await env.database();
  const logger = createLogger('silent');

  // The process hosting inventory alone (it migrates the schema); the products are seeded through it.
  log('boundary: starting a process hosting inventory');
  const nats = env.nats;
  // Every other module placed at an address nobody answers: inventory calls none of them.
  const elsewhere = Object.fromEntries(MODULE_NAMES.filter((name) => name !== 'inventory').map((name) => [`${name.toUpperCase()}_URL`, 'http://127.0.0.1:9']));
  const host = nats
    ? await spawnServer(APP_ARGS, appEnv(db.url, await tempDir(env, 'shop-bench-inv-'), { MODULES: 'inventory', SERVICE_SECRET, NATS_URL: nats.url, NATS_STREAM: `BENCH_BOUNDARY_${process.pid}`, NATS_SUBJECT_PREFIX: `bench.boundary.${process.pid}`, ...elsewhere }))
    : undefined;
  if (host) env.defer(() => host.stop());
  if (nats) env.defer(() => deleteNatsStream(nats.url, `BENCH_BOUNDARY_${process.pid}`));

  const database = new Database({ url: db.url, connectionsPerModule: 10 });
  env.defer(() => database.close());
  await database.migrate([inventoryMigrations], logger);
  const telemetry = new Telemetry();
  const module = createInventoryModule({ db: database.forModule('inventory'), bus: new InProcessBus(), logger, telemetry });
  // As composition.ts hands it to orders: one wrapper counting, signing and instrumenting.
  const local: InventoryApi = boundaryApi(module.service, { count: { caller: 'orders', callee: 'inventory', via: 'in-process' }, signAs: 'orders', local: 'inventory' }, telemetry);
  const ids: string[] = [];
  if (host) ids.push(...(await seedProducts(host.url)));
  else for (let i = 0; i < 2; i++) ids.push((await module.api.createProduct({ sku: `B-${Date.now()}-${i}`, name: 'bench', price_cents: 100, stock_quantity: 10 })).product.id);

  const time = async (api: InventoryApi) => {
    for (let i = 0; i < Math.min(500, calls); i++) await api.getProducts(ids); // warm-up
    const samples: number[] = [];
    for (let i = 0; i < calls; i++) {
      const started = process.hrtime.bigint();
      await api.getProducts(ids);
      samples.push(Number(process.hrtime.bigint() - started) / 1_000);
    }
    const { p50, p99 } = summary(samples, 1);
    return { p50, p99 };
  };

  log(`boundary: ${calls} calls in process`);
  const inProcess = await time(local);
  let overHttp: BoundaryResults['http_client_us'] = { skipped: 'no NATS server (a process hosting one module needs NATS_URL)' };
  if (host) {
    const remote = new RemoteModule({ module: 'inventory', url: host.url, credential: new ServiceCredential(SERVICE_SECRET, 'orders'), logger }); // signed as orders: the caller getProducts allows
    env.defer(() => remote.close());
    log(`boundary: ${calls} calls through the HTTP client`);
    overHttp = await time(telemetry.traffic.fromCaller('orders', 'inventory', remoteApi<InventoryApi>(remote, InventoryMethods), false));
  }
  return { in_process_us: inProcess, http_client_us: overHttp, wrapper: await wrapperOverhead(quick) };
}

/** ns per awaited call: a stub method direct, and wrapped the way every module call is. */
async function wrapperOverhead(quick: boolean): Promise<BoundaryResults['wrapper']> {
  const calls = quick ? 200_000 : 1_000_000;
  const telemetry = new Telemetry();
  class Stub {
    async getProducts(ids: readonly string[]) {
      return ids;
    }
  }
  const direct = new Stub();
  const wrapped = boundaryApi(new Stub(), { count: { caller: 'orders', callee: 'stub', via: 'in-process' }, signAs: 'orders', local: 'stub' }, telemetry);
  const layered = handedTo('orders', telemetry.traffic.fromCaller('orders', 'stub', instrumentApi('stub', new Stub(), telemetry), true));
  const ids = ['a', 'b'];
  const run = async (api: Stub) => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) await api.getProducts(ids);
    return Number(process.hrtime.bigint() - started) / calls;
  };
  // A shared machine: the best of 5 alternated runs of each.
  let best = { direct: Infinity, wrapped: Infinity, layered: Infinity };
  for (let i = 0; i < 5; i++) {
    best = { direct: Math.min(best.direct, await run(direct)), wrapped: Math.min(best.wrapped, await run(wrapped)), layered: Math.min(best.layered, await run(layered)) };
  }
  return { direct_ns: round(best.direct, 0), wrapped_ns: round(best.wrapped, 0), layered_ns: round(best.layered, 0), overhead_us: round((best.wrapped - best.direct) / 1_000, 3), calls };
}
