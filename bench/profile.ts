import autocannon from 'autocannon';
import { randomUUID } from 'node:crypto';
import { APP_ARGS, appEnv, buildApp, log, openEnv, seedProducts, spawnServer, tempDir, token } from './lib.ts';

/**
 * `node --import tsx bench/profile.ts [dir]`: the app under the post_orders load with
 * `node --cpu-prof` (profiles land in `dir`, default .tmp/profiles), for finding where its time goes.
 */
const dir = process.argv[2] ?? '.tmp/profiles';
buildApp();
const env = await openEnv({ quick: true, duration: 10, warmup: 2, connections: 50 });
try {
  const db = await env.database();
  const app = await spawnServer(['--cpu-prof', `--cpu-prof-dir=${dir}`, ...APP_ARGS], appEnv(db.url, await tempDir(env, 'shop-prof-'), process.env.PROFILE_ENV ? JSON.parse(process.env.PROFILE_ENV) : {}));
  const [a, b] = (await seedProducts(app.url)) as [string, string];
  const path = process.env.PROFILE_PATH ?? 'post';
  const created: Array<{ id: string; token: string }> = [];
  const post = () =>
    autocannon({
      url: app.url,
      connections: 50,
      duration: 10,
      requests: [
        {
          method: 'POST',
          path: '/api/orders',
          setupRequest: (request, context) => {
            const customer = randomUUID();
            context.token = token(customer);
            return { ...request, headers: { 'content-type': 'application/json', authorization: `Bearer ${context.token}` }, body: JSON.stringify({ items: [{ product_id: a, quantity: 1 }, { product_id: b, quantity: 2 }], idempotency_key: `p-${customer}` }) };
          },
          onResponse: (status, body, context) => void (status === 201 && created.push({ id: JSON.parse(body).id, token: context.token as string })),
        },
      ],
    });
  const result = await post();
  log(`POST: ${result.requests.average} req/s, p50 ${result.latency.p50} ms`);
  if (path === 'get') {
    let next = 0;
    const get = await autocannon({ url: app.url, connections: 50, duration: 10, requests: [{ method: 'GET', path: '/x', setupRequest: (request) => { const o = created[next++ % created.length]!; return { ...request, path: `/api/orders/${o.id}`, headers: { authorization: `Bearer ${o.token}` } }; } }] });
    log(`GET: ${get.requests.average} req/s, p50 ${get.latency.p50} ms`);
  }
  await app.stop();
} finally {
  await env.close();
}
