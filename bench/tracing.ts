import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { figuresOf, getOrders, postOrders, withCpu, type HttpFigures, type Measured, type OrderRef } from './http.ts';
import { APP_ARGS, appEnv, log, quiet, round, seedProducts, spawnServer, tempDir, type BenchEnv, type Child } from './lib.ts';

/**
 * tracing: the same app on the same database twice, tracing off (the default: no SDK loaded, no
 * span built) and on (`OTEL_EXPORTER_OTLP_ENDPOINT` set, every span sampled and exported over
 * OTLP/HTTP protobuf to a sink in this process that reads and drops them, as a collector would
 * take them). POST /api/orders (its saga's spans included) and GET /api/orders/:id, alternated;
 * req/s and the server process's CPU per request (/proc). `ratio` = on / off req/s;
 * `cpu_ratio` = on / off CPU per request. The cost of tracing off against no tracing code at
 * all is the get_order and post_orders ratios against the baseline, compared across runs
 * (docs/performance.md).
 */

export interface TracingResults {
  post_orders: { off: HttpFigures; on: HttpFigures; ratio: number; cpu_ratio: number };
  get_order: { off: HttpFigures; on: HttpFigures; ratio: number; cpu_ratio: number };
  /** What the sink received during the run (the exporter really sent them). */
  exported: { requests: number; megabytes: number };
}

interface Side {
  readonly name: 'off' | 'on';
  readonly server: Child;
  readonly products: string[];
  readonly created: OrderRef[];
}

export async function runTracing(env: BenchEnv): Promise<TracingResults> {
  const { duration, warmup, connections, quick } = env.settings;
  const sink = await startSink();
  env.defer(() => sink.close());
  const database = await env.database();
  log('tracing: the app with tracing off and on, one database');
  const off = await spawnServer(APP_ARGS, appEnv(database.url, await tempDir(env, 'shop-bench-trace-off-')));
  env.defer(() => off.stop());
  const on = await spawnServer(APP_ARGS, appEnv(database.url, await tempDir(env, 'shop-bench-trace-on-'), { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_SERVICE_NAME: 'shop-bench' }));
  env.defer(() => on.stop());
  const products = await seedProducts(off.url);
  const sides: Side[] = [
    { name: 'off', server: off, products, created: [] },
    { name: 'on', server: on, products, created: [] },
  ];

  const rounds = quick ? 1 : 2;
  const measured = { post: { off: [] as Measured[], on: [] as Measured[] }, get: { off: [] as Measured[], on: [] as Measured[] } };
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      const pid = side.server.child.pid!;
      await quiet(pid);
      log(`tracing: POST /api/orders, tracing ${side.name} (warm-up ${warmup} s, then ${duration} s)`);
      await postOrders(side, warmup, connections, undefined);
      await quiet(pid);
      // Counted until the app is idle again: the saga's work (and its spans) belongs to the POST.
      measured.post[side.name].push(await withCpu(side, () => postOrders(side, duration, connections, side.created), true));
    }
  }
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      const pid = side.server.child.pid!;
      await quiet(pid);
      log(`tracing: GET /api/orders/:id, tracing ${side.name} (warm-up ${warmup} s, then ${duration} s)`);
      await getOrders(side, warmup, connections);
      measured.get[side.name].push(await withCpu(side, () => getOrders(side, duration, connections), false));
    }
  }
  const compare = (pair: { off: Measured[]; on: Measured[] }) => {
    const [a, b] = [figuresOf(pair.off), figuresOf(pair.on)];
    return { off: a, on: b, ratio: round(b.requests_per_s / a.requests_per_s, 3), cpu_ratio: round(b.server_cpu_us / a.server_cpu_us, 3) };
  };
  if (sink.requests() === 0) throw new Error(`tracing: the traced app exported nothing:\n${on.output().slice(-2000)}`);
  return { post_orders: compare(measured.post), get_order: compare(measured.get), exported: { requests: sink.requests(), megabytes: round(sink.bytes() / 2 ** 20, 1) } };
}

/** An OTLP/HTTP endpoint that takes every export and drops it, counting what came. */
async function startSink(): Promise<{ url: string; requests(): number; bytes(): number; close(): Promise<void> }> {
  let requests = 0;
  let bytes = 0;
  const server = http.createServer((request, response) => {
    request.on('data', (chunk: Buffer) => (bytes += chunk.length));
    request.on('end', () => {
      requests += 1;
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    bytes: () => bytes,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
