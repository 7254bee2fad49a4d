import { createHash, randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { createVerifier } from 'fast-jwt';
import pg from 'pg';

/**
 * The bare baseline: plain Fastify + pg doing the SQL work of `POST /api/orders` and
 * `GET /api/orders/:id`, with no modules, no Kysely, no outbox dispatcher, no telemetry.
 * Same HTTP contract as the app where it matters to the load: a bearer token (HS256, verified
 * with the same library as the app's, fast-jwt), a validated body, the catalog price read, the idempotency check, and
 * one transaction writing the order, its items and an outbox row.
 *
 * Env: DATABASE_URL, PORT, HOST, AUTH_JWT_SECRET, DB_POOL_SIZE (default 20: twice what the app's orders module may open, 10).
 *
 * BASELINE_RESERVE=1: the hand-written monolith doing the same business work as the app's saga,
 * the way a careful hand would: the order's own transaction also reserves its stock (product
 * rows locked in id order, so two orders never deadlock; availability checked; reserved
 * quantities raised; a reservation row per item), last, to hold the row locks as briefly as it
 * can; not enough stock rolls it all back (409). The app does the same work after the order
 * commits, in batches, through OrderCreated → inventory.
 */
const int8 = (value: string) => Number(value);
pg.types.setTypeParser(20, int8);

const schema = 'bench_baseline';
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_SIZE ?? 20), application_name: 'bench-baseline' });
const verifyToken = createVerifier({ key: Buffer.from(process.env.AUTH_JWT_SECRET ?? ''), algorithms: ['HS256'] });

await pool.query(`
  CREATE SCHEMA IF NOT EXISTS ${schema};
  CREATE TABLE IF NOT EXISTS ${schema}.products (id uuid PRIMARY KEY, sku text NOT NULL UNIQUE, name text NOT NULL, price_cents integer NOT NULL, stock_quantity integer NOT NULL, reserved_quantity integer NOT NULL DEFAULT 0, created_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE IF NOT EXISTS ${schema}.orders (
    id uuid PRIMARY KEY, customer_id uuid NOT NULL, status text NOT NULL, total_cents bigint NOT NULL, cancel_reason text,
    idempotency_key text NOT NULL, request_hash text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT one_order_per_key UNIQUE (customer_id, idempotency_key));
  CREATE INDEX IF NOT EXISTS orders_by_customer_newest_first ON ${schema}.orders (customer_id, created_at DESC, id DESC);
  CREATE TABLE IF NOT EXISTS ${schema}.order_items (order_id uuid NOT NULL REFERENCES ${schema}.orders (id) ON DELETE CASCADE, line integer NOT NULL, product_id uuid NOT NULL, quantity integer NOT NULL, unit_price_cents integer NOT NULL, PRIMARY KEY (order_id, line));
  CREATE TABLE IF NOT EXISTS ${schema}.outbox (seq bigserial PRIMARY KEY, id uuid NOT NULL UNIQUE, event_type text NOT NULL, event_version integer NOT NULL, payload jsonb NOT NULL,
    occurred_at timestamptz NOT NULL DEFAULT now(), status text NOT NULL DEFAULT 'pending', attempts integer NOT NULL DEFAULT 0, next_attempt_at timestamptz NOT NULL DEFAULT now(), last_error text, delivered_at timestamptz);
  CREATE INDEX IF NOT EXISTS outbox_pending ON ${schema}.outbox (next_attempt_at, seq) WHERE status = 'pending';
  CREATE TABLE IF NOT EXISTS ${schema}.reservations (id uuid PRIMARY KEY, order_id uuid NOT NULL, product_id uuid NOT NULL REFERENCES ${schema}.products (id), quantity integer NOT NULL,
    status text NOT NULL DEFAULT 'active', created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(), UNIQUE (order_id, product_id));
`);
const reserve = process.env.BASELINE_RESERVE === '1';

/** Reserves the order's items in its transaction (BASELINE_RESERVE=1); false when stock is short (the caller rolls back). */
async function reserveStock(client: pg.PoolClient, orderId: string, lines: ReadonlyArray<{ product_id: string; quantity: number }>): Promise<boolean> {
  // One line per product, in id order: every transaction locks products in the same order.
  const wanted = new Map<string, number>();
  for (const line of lines) wanted.set(line.product_id, (wanted.get(line.product_id) ?? 0) + line.quantity);
  const ids = [...wanted.keys()].sort();
  const quantities = ids.map((id) => wanted.get(id)!);
  const locked = await client.query<{ id: string; available: number }>(
    `SELECT id, stock_quantity - reserved_quantity AS available FROM ${schema}.products WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
    [ids],
  );
  const available = new Map(locked.rows.map((row) => [row.id, row.available]));
  if (ids.some((id, i) => (available.get(id) ?? 0) < quantities[i]!)) return false;
  await client.query(
    `UPDATE ${schema}.products p SET reserved_quantity = p.reserved_quantity + x.quantity FROM unnest($1::uuid[], $2::int[]) AS x(id, quantity) WHERE p.id = x.id`,
    [ids, quantities],
  );
  await client.query(
    `INSERT INTO ${schema}.reservations (id, order_id, product_id, quantity) SELECT gen_random_uuid(), $1, x.id, x.quantity FROM unnest($2::uuid[], $3::int[]) AS x(id, quantity)`,
    [orderId, ids, quantities],
  );
  return true;
}

interface OrderRow {
  id: string;
  customer_id: string;
  status: string;
  total_cents: number;
  cancel_reason: string | null;
  request_hash: string;
  created_at: Date;
  updated_at: Date;
}
interface ItemRow {
  product_id: string;
  quantity: number;
  unit_price_cents: number;
}

const toOrder = (row: OrderRow, items: ItemRow[]) => ({
  id: row.id,
  customer_id: row.customer_id,
  status: row.status,
  items,
  total_cents: row.total_cents,
  cancel_reason: row.cancel_reason,
  created_at: row.created_at.toISOString(),
  updated_at: row.updated_at.toISOString(),
});

const itemsOf = async (id: string) =>
  (await pool.query<ItemRow>(`SELECT product_id, quantity, unit_price_cents FROM ${schema}.order_items WHERE order_id = $1 ORDER BY line`, [id])).rows;

const app = Fastify({ logger: false });

app.addHook('onRequest', async (request, reply) => {
  if (request.url === '/health') return;
  const header = request.headers.authorization;
  try {
    if (!header?.startsWith('Bearer ')) throw new Error('no token');
    const payload = verifyToken(header.slice(7));
    (request as any).principal = { sub: String(payload.sub).toLowerCase(), admin: Array.isArray(payload.roles) && payload.roles.includes('admin') };
  } catch {
    return reply.code(401).send({ title: 'Unauthorized' });
  }
});

app.get('/health', async () => ({ status: 'ok' }));

const uuid = { type: 'string', format: 'uuid' } as const;

app.post<{ Body: { sku: string; name: string; price_cents: number; stock_quantity: number } }>('/api/products', async (request, reply) => {
  const id = randomUUID();
  const { sku, name, price_cents, stock_quantity } = request.body;
  await pool.query(`INSERT INTO ${schema}.products (id, sku, name, price_cents, stock_quantity) VALUES ($1, $2, $3, $4, $5)`, [id, sku, name, price_cents, stock_quantity]);
  return reply.code(201).send({ id });
});

app.post<{ Body: { items: Array<{ product_id: string; quantity: number }>; idempotency_key: string } }>(
  '/api/orders',
  {
    schema: {
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['items', 'idempotency_key'],
        properties: {
          customer_id: uuid,
          items: { type: 'array', minItems: 1, maxItems: 100, items: { type: 'object', additionalProperties: false, required: ['product_id', 'quantity'], properties: { product_id: uuid, quantity: { type: 'integer', minimum: 1, maximum: 1000 } } } },
          idempotency_key: { type: 'string', minLength: 1, maxLength: 200 },
        },
      },
    },
  },
  async (request, reply) => {
    const customerId: string = (request as any).principal.sub;
    const { items, idempotency_key: key } = request.body;
    const hash = createHash('sha256').update(JSON.stringify({ customer_id: customerId, items })).digest('hex');
    // Idempotency check: an earlier order with this key is the answer.
    const earlier = await pool.query<OrderRow>(`SELECT * FROM ${schema}.orders WHERE customer_id = $1 AND idempotency_key = $2`, [customerId, key]);
    if (earlier.rows[0]) return reply.code(200).send(toOrder(earlier.rows[0], await itemsOf(earlier.rows[0].id)));
    // Catalog price read.
    const products = await pool.query<{ id: string; price_cents: number }>(`SELECT id, price_cents FROM ${schema}.products WHERE id = ANY($1::uuid[])`, [items.map((item) => item.product_id)]);
    const prices = new Map(products.rows.map((row) => [row.id, row.price_cents]));
    const lines = items.map((item) => {
      const price = prices.get(item.product_id.toLowerCase());
      if (price === undefined) throw Object.assign(new Error(`unknown product ${item.product_id}`), { statusCode: 422 });
      return { product_id: item.product_id.toLowerCase(), quantity: item.quantity, unit_price_cents: price };
    });
    const total = lines.reduce((sum, line) => sum + line.quantity * line.unit_price_cents, 0);
    const id = randomUUID();
    // Order + items + outbox row in one transaction.
    const client = await pool.connect();
    let row: OrderRow | undefined;
    try {
      await client.query('BEGIN');
      row = (
        await client.query<OrderRow>(
          `INSERT INTO ${schema}.orders (id, customer_id, status, total_cents, idempotency_key, request_hash) VALUES ($1, $2, 'pending', $3, $4, $5)
           ON CONFLICT ON CONSTRAINT one_order_per_key DO NOTHING RETURNING *`,
          [id, customerId, total, key, hash],
        )
      ).rows[0];
      if (row) {
        const values: unknown[] = [];
        const tuples = lines.map((line, index) => {
          values.push(id, index, line.product_id, line.quantity, line.unit_price_cents);
          const at = index * 5;
          return `($${at + 1}, $${at + 2}, $${at + 3}, $${at + 4}, $${at + 5})`;
        });
        await client.query(`INSERT INTO ${schema}.order_items (order_id, line, product_id, quantity, unit_price_cents) VALUES ${tuples.join(', ')}`, values);
        await client.query(`INSERT INTO ${schema}.outbox (id, event_type, event_version, payload) VALUES ($1, 'OrderCreated', 1, $2)`, [
          randomUUID(),
          JSON.stringify({ order_id: id, customer_id: customerId, items: lines, total_cents: total }),
        ]);
        if (reserve && !(await reserveStock(client, id, lines))) {
          await client.query('ROLLBACK');
          return reply.code(409).send({ title: 'Insufficient stock' });
        }
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    if (!row) {
      const winner = (await pool.query<OrderRow>(`SELECT * FROM ${schema}.orders WHERE customer_id = $1 AND idempotency_key = $2`, [customerId, key])).rows[0]!;
      return reply.code(200).send(toOrder(winner, await itemsOf(winner.id)));
    }
    return reply.code(201).send(toOrder(row, lines));
  },
);

app.get<{ Params: { id: string } }>('/api/orders/:id', { schema: { params: { type: 'object', properties: { id: uuid }, required: ['id'] } } }, async (request, reply) => {
  const principal = (request as any).principal as { sub: string; admin: boolean };
  const row = (await pool.query<OrderRow>(`SELECT * FROM ${schema}.orders WHERE id = $1`, [request.params.id])).rows[0];
  if (!row || (!principal.admin && row.customer_id !== principal.sub)) return reply.code(404).send({ title: 'Order not found' });
  return toOrder(row, await itemsOf(row.id));
});

await app.listen({ port: Number(process.env.PORT ?? 8090), host: process.env.HOST ?? '127.0.0.1' });

const stop = async () => {
  await app.close();
  await pool.end();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
