import autocannon from 'autocannon';
import { randomUUID } from 'node:crypto';
import { APP_ARGS, JWT_SECRET, appEnv, buildApp, cpuPerRequest, log, openEnv, postmasterOf, seedProducts, spawnServer, tempDir, token } from './lib.ts';

/**
 * `node --import tsx bench/profile.ts [dir]`: the app under the post_orders load (then the
 * get_order load with PROFILE_PATH=get), printing the CPU each request cost the server process
 * and PostgreSQL (from /proc: what was really spent, where a wall-clock profile on a busy VM
 * charges time spent waiting in a system call to it). With `node --cpu-prof` unless
 * PROFILE_CPU=0 (profiles land in `dir`, default .tmp/profiles).
 *
 * PROFILE_BASELINE=1 measures bench/baseline/server.ts the same way; PROFILE_ENV (JSON) adds
 * settings to the app's environment; PROFILE_SECONDS sets each load's length (default 10).
 */
const dir = process.argv[2] ?? '.tmp/profiles';
const seconds = Number(process.env.PROFILE_SECONDS ?? 10);
/** The PostgreSQL server's postmaster: only its processes are counted (set once the database is open). */
let postmaster: number | undefined;
const profiling = process.env.PROFILE_CPU === '0' ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
buildApp();
const env = await openEnv({ quick: true, duration: seconds, warmup: 2, connections: 50 });
try {
  const db = await env.database();
  const server = process.env.PROFILE_BASELINE
    ? await spawnServer([...profiling, '--import', 'tsx', 'bench/baseline/server.ts'], { DATABASE_URL: db.url, AUTH_JWT_SECRET: JWT_SECRET }, { readyPath: '/health' })
    : await spawnServer([...profiling, ...APP_ARGS], appEnv(db.url, await tempDir(env, 'shop-prof-'), process.env.PROFILE_ENV ? JSON.parse(process.env.PROFILE_ENV) : {}));
  const [a, b] = (await seedProducts(server.url)) as [string, string];
  postmaster = await postmasterOf(db.url);
  const created: Array<{ id: string; token: string }> = [];
  const post = await cpuPerRequestLogged(server.child.pid!, 'POST /api/orders', () =>
    autocannon({
      url: server.url,
      connections: 50,
      duration: seconds,
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
    }),
  );
  log(`POST: ${post.requests.average} req/s, p50 ${post.latency.p50} ms`);
  if (process.env.PROFILE_PATH === 'get') {
    // The saga's backlog from the POST load would otherwise be counted against the reads.
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    let next = 0;
    const get = await cpuPerRequestLogged(server.child.pid!, 'GET /api/orders/:id', () =>
      autocannon({
        url: server.url,
        connections: 50,
        duration: seconds,
        requests: [{ method: 'GET', path: '/x', setupRequest: (request) => { const o = created[next++ % created.length]!; return { ...request, path: `/api/orders/${o.id}`, headers: { authorization: `Bearer ${o.token}` } }; } }],
      }),
    );
    log(`GET: ${get.requests.average} req/s, p50 ${get.latency.p50} ms`);
  }
  await server.stop();
} finally {
  await env.close();
}

/** Runs a load and prints the CPU per request of the server process and of every PostgreSQL process. */
async function cpuPerRequestLogged<T extends { requests: { total: number } }>(pid: number, name: string, load: () => Promise<T>): Promise<T> {
  const { result, serverUs, postgresUs } = await cpuPerRequest(pid, load, postmaster);
  log(`${name}: CPU per request: server ${serverUs} µs, PostgreSQL ${postgresUs} µs`);
  return result;
}
