import { randomUUID } from 'node:crypto';
import { APP_ARGS, SERVICE_SECRET, appEnv, deleteNatsStream, freePort, http, log, round, seedProducts, sleep, spawnServer, summary, tempDir, token, type BenchEnv, type Child } from './lib.ts';
import { MODULE_NAMES } from '../packages/app/src/topology-config.ts';

/**
 * checkout: create an order → pay it (test provider, a card that captures) → observe it
 * `confirmed` (PaymentCaptured went back to orders). Per checkout, the time from the create
 * request to the first read that sees `confirmed` (polled every 2 ms); throughput at a fixed
 * concurrency. All modules in one process, vs one process per module with NATS between them.
 */
export interface CheckoutFigures {
  p50_ms: number;
  p99_ms: number;
  checkouts_per_s: number;
  n: number;
  concurrency: number;
}

export interface CheckoutResults {
  one_process: CheckoutFigures;
  /** One process per module, events over NATS (named when the system had four). */
  four_processes: CheckoutFigures | { skipped: string };
}

/** One process per module: every module of the system. */
const MODULES = MODULE_NAMES;

export async function runCheckout(env: BenchEnv): Promise<CheckoutResults> {
  const { quick } = env.settings;
  const count = quick ? 150 : 1_000;
  const concurrency = 10;

  const oneDb = await env.database();
  log('checkout: all modules in one process');
  const one = await spawnServer(APP_ARGS, appEnv(oneDb.url, await tempDir(env, 'shop-bench-one-')));
  env.defer(() => one.stop());
  const oneProcess = await measure({ orders: one, payments: one }, count, concurrency);
  await one.stop();

  if (!env.nats) return { one_process: oneProcess, four_processes: { skipped: 'no NATS server' } };
  const fourDb = await env.database();
  log('checkout: one process per module, NATS between them');
  const stream = `BENCH_CHECKOUT_${process.pid}`;
  env.defer(() => deleteNatsStream(env.nats!.url, stream));
  const ports = Object.fromEntries(await Promise.all(MODULES.map(async (name) => [name, await freePort()] as const)));
  const urlOf = (name: string) => `http://127.0.0.1:${ports[name]}`;
  const processes: Record<string, Child> = {};
  await Promise.all(
    MODULES.map(async (name) => {
      const elsewhere = Object.fromEntries(MODULES.filter((other) => other !== name).map((other) => [`${other.toUpperCase()}_URL`, urlOf(other)]));
      const child = await spawnServer(
        APP_ARGS,
        appEnv(fourDb.url, await tempDir(env, `shop-bench-${name}-`), { MODULES: name, SERVICE_SECRET, NATS_URL: env.nats!.url, NATS_STREAM: stream, NATS_SUBJECT_PREFIX: `bench.checkout.${process.pid}`, ...elsewhere }),
        { port: ports[name]! },
      );
      processes[name] = child;
      env.defer(() => child.stop());
    }),
  );
  const fourProcesses = await measure({ orders: processes.orders!, payments: processes.payments!, inventory: processes.inventory! }, count, concurrency);
  await Promise.all(Object.values(processes).map((child) => child.stop()));
  return { one_process: oneProcess, four_processes: fourProcesses };
}

async function measure(at: { orders: Child; payments: Child; inventory?: Child }, count: number, concurrency: number): Promise<CheckoutFigures> {
  const products = await seedProducts((at.inventory ?? at.orders).url);
  const checkout = async (): Promise<number> => {
    const customer = randomUUID();
    const bearer = token(customer);
    const started = performance.now();
    const created = await http('POST', `${at.orders.url}/api/orders`, { items: products.map((product_id) => ({ product_id, quantity: 1 })), idempotency_key: `co-${customer}` }, bearer);
    if (created.status !== 201) throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
    const orderId = created.body.id as string;
    const paid = await http('POST', `${at.payments.url}/api/payments`, { order_id: orderId, payment_method: 'pm_card_visa', idempotency_key: `pay-${customer}` }, bearer);
    if (paid.status !== 201 && paid.status !== 200) throw new Error(`pay answered ${paid.status}: ${JSON.stringify(paid.body)}`);
    const deadline = started + 15_000;
    for (;;) {
      const order = await http('GET', `${at.orders.url}/api/orders/${orderId}`, undefined, bearer);
      if (order.body?.status === 'confirmed') return performance.now() - started;
      if (performance.now() > deadline) throw new Error(`order ${orderId} not confirmed within 15 s (status ${order.body?.status})`);
      await sleep(2);
    }
  };
  for (let i = 0; i < 20; i++) await checkout(); // warm-up
  const samples: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < count) samples.push(await checkout());
    }),
  );
  const seconds = (performance.now() - started) / 1_000;
  const { p50, p99, n } = summary(samples, 1);
  return { p50_ms: p50, p99_ms: p99, checkouts_per_s: round(n / seconds, 1), n, concurrency };
}
