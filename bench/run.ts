import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { runBoundary } from './boundary.ts';
import { runCheckout } from './checkout.ts';
import { runEvents } from './events.ts';
import { runFootprint } from './footprint.ts';
import { runGrowth } from './growth.ts';
import { runHttp } from './http.ts';
import { runReserve } from './reserve.ts';
import { runTracing } from './tracing.ts';
import { buildApp, log, openEnv, type Settings } from './lib.ts';

/**
 * `npm run bench` (about 10 minutes) and `npm run bench -- --quick` (under 3): every group on a
 * real PostgreSQL (embedded, or DATABASE_URL's server) and NATS (NATS_URL, or nats-server from
 * PATH; the NATS figures say `skipped` without either), a table on stdout, bench/results.json.
 * docs/performance.md explains each figure.
 */
const quick = process.argv.includes('--quick');
const settings: Settings = quick ? { quick, duration: 8, warmup: 2, connections: 50 } : { quick, duration: 30, warmup: 5, connections: 50 };
const output = new URL('./results.json', import.meta.url);
/** `--only growth` (comma-separated groups): just those, written to .tmp/bench-<groups>.json, bench/results.json untouched. */
const onlyArg = process.argv.find((arg, i) => arg.startsWith('--only=') || process.argv[i - 1] === '--only');
const only = onlyArg?.replace(/^--only=/, '').split(',');

const started = Date.now();
buildApp();
const env = await openEnv(settings);
let failed = false;
try {
  log(`${quick ? 'quick' : 'full'} run on ${env.pgKind} PostgreSQL, NATS ${env.nats ? env.nats.url : 'unavailable'}`);
  if (only) {
    const groups: Record<string, () => Promise<unknown>> = { http: () => runHttp(env), boundary: () => runBoundary(env), growth: () => runGrowth(env), reserve_variant: () => runReserve(env), tracing: () => runTracing(env) };
    const partial: Record<string, unknown> = { meta: { mode: quick ? 'quick' : 'full', date: new Date().toISOString(), node: process.version, postgres: env.pgKind } };
    for (const name of only) {
      if (!groups[name]) throw new Error(`--only: no group ${name} (groups: ${Object.keys(groups).join(', ')})`);
      partial[name] = await groups[name]!();
    }
    const file = new URL(`../.tmp/bench-${only.join('+')}.json`, import.meta.url);
    await mkdir(new URL('../.tmp/', import.meta.url), { recursive: true });
    await writeFile(file, JSON.stringify(partial, null, 2) + '\n');
    process.stdout.write(JSON.stringify(partial, null, 2) + '\n');
    log(`wrote ${file.pathname} in ${Math.round((Date.now() - started) / 1000)} s`);
    await env.close();
    process.exit(0);
  }
  const http = await runHttp(env);
  const tracing = await runTracing(env);
  const boundary = await runBoundary(env);
  const events = await runEvents(env);
  const checkout = await runCheckout(env);
  const footprint = await runFootprint(env);
  const reserve = await runReserve(env);
  const growth = await runGrowth(env);

  const results = {
    meta: {
      mode: quick ? 'quick' : 'full',
      date: new Date().toISOString(),
      node: process.version,
      cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}`,
      memory_gb: Math.round(os.totalmem() / 2 ** 30),
      postgres: env.pgKind,
      nats: env.nats ? 'yes' : 'no',
      autocannon: { connections: settings.connections, duration_s: settings.duration, warmup_s: settings.warmup },
      seconds: Math.round((Date.now() - started) / 1_000),
    },
    post_orders: http.post_orders,
    get_order: http.get_order,
    boundary_call: boundary,
    checkout,
    events,
    footprint: { ...footprint, rss_under_load_mb: http.rssUnderLoadMb },
    access_log: http.access_log,
    tracing,
    reserve_variant: reserve,
    growth,
    targets: {} as Record<string, { target: string; value: number | string; met: boolean | null }>,
  };
  const num = (value: unknown) => (typeof value === 'number' ? value : NaN);
  const target = (name: string, rule: string, value: unknown, met: (v: number) => boolean) => {
    const v = num(value);
    results.targets[name] = { target: rule, value: Number.isNaN(v) ? 'skipped' : v, met: Number.isNaN(v) ? null : met(v) };
  };
  // Against the hand-written baseline, in this run (issue 14): the app's POST includes its saga.
  target('post_orders.ratio', '>= 0.75', http.post_orders.ratio, (v) => v >= 0.75);
  target('post_orders.cpu_ratio', '<= 1.5', http.post_orders.cpu_ratio, (v) => v <= 1.5);
  target('get_order.ratio', '>= 0.9', http.get_order.ratio, (v) => v >= 0.9);
  target('get_order.cpu_ratio', '<= 1.15', http.get_order.cpu_ratio, (v) => v <= 1.15);
  target('boundary_call.wrapper.overhead_us', '<= 2', boundary.wrapper.overhead_us, (v) => v <= 2);
  target('events.in_process_ms.p50', '<= 5', events.in_process_ms.p50, (v) => v <= 5);
  target('events.nats_ms.p50', '<= 15', 'p50' in events.nats_ms ? events.nats_ms.p50 : undefined, (v) => v <= 15);
  target('events.outbox_relay_events_per_s', '>= 5000', events.outbox_relay_events_per_s, (v) => v >= 5_000);
  target('footprint.start_to_ready_ms', '<= 1500', footprint.start_to_ready_ms, (v) => v <= 1_500);
  target('footprint.idle_rss_mb', '<= 150', footprint.idle_rss_mb, (v) => v <= 150);
  results.meta.seconds = Math.round((Date.now() - started) / 1_000);

  await writeFile(output, JSON.stringify(results, null, 2) + '\n');
  process.stdout.write(table(results) + '\n');
  log(`wrote ${output.pathname} in ${results.meta.seconds} s`);
} catch (error) {
  failed = true;
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
} finally {
  await env.close();
}
process.exit(failed ? 1 : 0);

/** One row per size and variant: req/s and server CPU per request against the empty database's. */
function growthRows(g: any): string[][] {
  const rows: string[][] = [['growth: empty database POST | GET req/s (CPU µs)', `${g.empty.post_orders.requests_per_s} (${g.empty.post_orders.server_cpu_us})`, `${g.empty.get_order.requests_per_s} (${g.empty.get_order.server_cpu_us})`, `/metrics ${g.empty.metrics_scrape_ms} ms`]];
  for (const size of g.sizes) {
    for (const variant of ['kept', 'pruned']) {
      const m = size[variant];
      if (!m) continue;
      rows.push([
        `growth: ${size.orders.toLocaleString('en')} orders, ${variant}: POST | GET ratio (CPU ratio)`,
        `${m.post_orders.ratio} (${m.post_orders.cpu_ratio})`,
        `${m.get_order.ratio} (${m.get_order.cpu_ratio})`,
        `/metrics ${m.metrics_scrape_ms} ms`,
      ]);
    }
  }
  return rows;
}

function table(r: any): string {
  const f = (value: unknown) => (value && typeof value === 'object' && 'skipped' in (value as object) ? 'skipped' : String(value));
  const rows: string[][] = [
    ['figure', 'platform', 'baseline / other', 'ratio'],
    ['POST /api/orders req/s', r.post_orders.platform.requests_per_s, r.post_orders.baseline.requests_per_s, r.post_orders.ratio],
    ['POST /api/orders p50 / p99 ms', `${r.post_orders.platform.p50_ms} / ${r.post_orders.platform.p99_ms}`, `${r.post_orders.baseline.p50_ms} / ${r.post_orders.baseline.p99_ms}`, ''],
    ['GET /api/orders/:id req/s', r.get_order.platform.requests_per_s, r.get_order.baseline.requests_per_s, r.get_order.ratio],
    ['server CPU µs per POST (saga included) | per GET', `${r.post_orders.platform.server_cpu_us} | ${r.get_order.platform.server_cpu_us}`, `${r.post_orders.baseline.server_cpu_us} | ${r.get_order.baseline.server_cpu_us}`, `${r.post_orders.cpu_ratio} | ${r.get_order.cpu_ratio}`],
    ['GET /api/orders/:id p50 / p99 ms', `${r.get_order.platform.p50_ms} / ${r.get_order.platform.p99_ms}`, `${r.get_order.baseline.p50_ms} / ${r.get_order.baseline.p99_ms}`, ''],
    ['GET req/s with ACCESS_LOG=on (| off)', r.access_log.on.requests_per_s, r.access_log.off.requests_per_s, r.access_log.ratio],
    ['POST req/s, tracing on (| off); CPU µs per request', `${r.tracing.post_orders.on.requests_per_s}; ${r.tracing.post_orders.on.server_cpu_us}`, `${r.tracing.post_orders.off.requests_per_s}; ${r.tracing.post_orders.off.server_cpu_us}`, `${r.tracing.post_orders.ratio} (CPU ${r.tracing.post_orders.cpu_ratio})`],
    ['GET req/s, tracing on (| off); CPU µs per request', `${r.tracing.get_order.on.requests_per_s}; ${r.tracing.get_order.on.server_cpu_us}`, `${r.tracing.get_order.off.requests_per_s}; ${r.tracing.get_order.off.server_cpu_us}`, `${r.tracing.get_order.ratio} (CPU ${r.tracing.get_order.cpu_ratio})`],
    ['module call p50 / p99 µs (in process | HTTP client)', `${r.boundary_call.in_process_us.p50} / ${r.boundary_call.in_process_us.p99}`, 'p50' in r.boundary_call.http_client_us ? `${r.boundary_call.http_client_us.p50} / ${r.boundary_call.http_client_us.p99}` : 'skipped', ''],
    ['wrapper overhead µs per call (one wrapper | three, before | direct ns)', r.boundary_call.wrapper.overhead_us, `${r.boundary_call.wrapper.wrapped_ns} | ${r.boundary_call.wrapper.layered_ns} | ${r.boundary_call.wrapper.direct_ns} ns`, ''],
    ['checkout p50 / p99 ms (1 process | one per module + NATS)', `${r.checkout.one_process.p50_ms} / ${r.checkout.one_process.p99_ms}`, 'p50_ms' in r.checkout.four_processes ? `${r.checkout.four_processes.p50_ms} / ${r.checkout.four_processes.p99_ms}` : 'skipped', ''],
    ['checkouts/s at 10 concurrent (1 | one per module + NATS)', r.checkout.one_process.checkouts_per_s, f(r.checkout.four_processes.checkouts_per_s ?? r.checkout.four_processes), ''],
    ['event commit → handled p50 / p99 ms (in process | NATS)', `${r.events.in_process_ms.p50} / ${r.events.in_process_ms.p99}`, 'p50' in r.events.nats_ms ? `${r.events.nats_ms.p50} / ${r.events.nats_ms.p99}` : 'skipped', ''],
    ['outbox relay events/s (in process | NATS)', r.events.outbox_relay_events_per_s, f(r.events.outbox_relay_nats_events_per_s), ''],
    ['POST req/s, 20 hot products, reserving (| baseline reserving in the order tx)', r.reserve_variant.platform.requests_per_s, r.reserve_variant.baseline_reserve.requests_per_s, r.reserve_variant.ratio],
    ['  p99 ms | orders reserved/s | server CPU µs per order', `${r.reserve_variant.platform.p99_ms} | ${r.reserve_variant.platform.reserved_per_s} | ${r.reserve_variant.platform.server_cpu_us}`, `${r.reserve_variant.baseline_reserve.p99_ms} | ${r.reserve_variant.baseline_reserve.reserved_per_s} | ${r.reserve_variant.baseline_reserve.server_cpu_us}`, r.reserve_variant.reserved_ratio],
    ['  POST req/s of the baseline not reserving (| reserving / not)', r.reserve_variant.baseline_plain.requests_per_s, '', r.reserve_variant.reserving_in_baseline],
    ...growthRows(r.growth),
    ['start → ready ms (existing data dir)', r.footprint.start_to_ready_ms, '', ''],
    ['RSS MB (idle | under POST load)', r.footprint.idle_rss_mb, r.footprint.rss_under_load_mb, ''],
  ].map((row) => row.map(String));
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  const targets = Object.entries(r.targets as Record<string, { target: string; value: unknown; met: boolean | null }>).map(
    ([name, t]) => `  ${t.met === null ? 'SKIP' : t.met ? 'met ' : 'MISS'}  ${name} = ${t.value} (target ${t.target})`,
  );
  return [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line), '', 'targets:', ...targets].join('\n');
}
