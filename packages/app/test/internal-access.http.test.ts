import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EDGE, type AccessTable, type MethodAccess } from '@shop/contract-kit';
import { ServiceCredential, callingModule, handedTo } from '@shop/distribution';
import { ACCESS_TABLES, METHOD_TABLES } from '../src/composition.ts';
import { MODULE_NAMES } from '../src/topology-config.ts';
import { startTestApp, type TestApp } from './harness.ts';

/**
 * `POST /internal/:module/:method` over real HTTP: a service token names its calling module, the
 * contract's access table says who may call each method (403 `forbidden` otherwise, 401 with no
 * valid token), and arguments are checked against the contract's schemas before the method runs
 * (400 `invalid_input` naming the argument, never a 500).
 */
const SERVICE_SECRET = 'internal-access-service-secret-0123456789';
const credential = new ServiceCredential(SERVICE_SECRET);

let t: TestApp;
let productId: string;
let pendingOrderId: string;

/** An internal call signed as `caller` (or with the given Authorization header). */
async function internal(caller: string | { authorization: string }, path: string, args: unknown) {
  const authorization = typeof caller === 'string' ? `Bearer ${await credential.token(caller)}` : caller.authorization;
  return t.call('POST', `/internal/${path}`, { headers: { authorization }, body: { args } });
}

beforeAll(async () => {
  t = await startTestApp({ SERVICE_SECRET });
  const product = await internal(EDGE, 'inventory/createProduct', [{ sku: `ACCESS-${randomUUID().slice(0, 8)}`, name: 'Access mug', price_cents: 500, stock_quantity: 10 }]);
  expect(product.status, JSON.stringify(product.body)).toBe(200);
  productId = product.body.result.product.id;
  const order = await internal(EDGE, 'orders/createOrder', [{ customer_id: randomUUID(), items: [{ product_id: productId, quantity: 1 }], idempotency_key: randomUUID() }]);
  expect(order.status, JSON.stringify(order.body)).toBe(200);
  pendingOrderId = order.body.result.order.id;
});
afterAll(() => t?.stop());

describe('who may call what', () => {
  it('a token naming an unknown caller is refused (403 forbidden naming caller and method); the unpaid order stays pending', async () => {
    const res = await internal('rogue', 'orders/confirmOrder', [pendingOrderId]);
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ code: 'forbidden', detail: 'caller rogue may not call orders.confirmOrder' });
    expect((await internal('rogue', 'orders/getOrder', [pendingOrderId])).body.code).toBe('forbidden');
    expect((await t.moduleApi<{ getOrder(id: string): Promise<{ status: string }> }>('orders').getOrder(pendingOrderId)).status).toBe('pending');
  });

  it('a known module is refused a method its contract does not open to it', async () => {
    for (const [caller, path, args] of [
      ['notifications', 'orders/confirmOrder', [pendingOrderId]],
      ['payments', 'orders/confirmOrder', [pendingOrderId]], // nobody confirms remotely: orders does, on PaymentCaptured
      ['notifications', 'orders/getOrder', [pendingOrderId]],
      [EDGE, 'inventory/getProducts', [[productId]]], // orders and notifications read prices, not the routes
      ['orders', 'inventory/adjustStock', [productId, { delta: 1 }]],
    ] as const) {
      const res = await internal(caller, path, args);
      expect(res.status, `${caller} → ${path}`).toBe(403);
      expect(res.body).toMatchObject({ code: 'forbidden', detail: `caller ${caller} may not call ${path.replace('/', '.')}` });
    }
    expect((await t.moduleApi<{ getOrder(id: string): Promise<{ status: string }> }>('orders').getOrder(pendingOrderId)).status).toBe('pending');
  });

  it('an allowed caller gets its answer', async () => {
    const order = await internal('payments', 'orders/getOrder', [pendingOrderId]);
    expect(order.status).toBe(200);
    expect(order.body.result).toMatchObject({ id: pendingOrderId, status: 'pending' });
    const products = await internal('orders', 'inventory/getProducts', [[productId]]);
    expect(products.status).toBe(200);
    expect(products.body.result).toEqual([expect.objectContaining({ id: productId })]);
    expect((await internal(EDGE, 'orders/getOrder', [pendingOrderId])).status).toBe(200);
  });

  it('no token, or one not signed with SERVICE_SECRET, is still a 401', async () => {
    const forged = await new ServiceCredential('another-secret-another-secret-0123456789').token('payments');
    for (const authorization of ['', `Bearer ${forged}`]) {
      const res = await internal({ authorization }, 'orders/getOrder', [pendingOrderId]);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('unauthorized');
    }
  });

  it('every caller a contract names is a module or the edge (a typo would lock its caller out)', () => {
    const known = new Set<string>([...MODULE_NAMES, EDGE]);
    for (const name of MODULE_NAMES) {
      const access = ACCESS_TABLES[name] as AccessTable<object> as Record<string, MethodAccess>;
      expect(Object.keys(access).sort(), name).toEqual(Object.keys(METHOD_TABLES[name]).sort());
      for (const [method, rule] of Object.entries(access)) {
        for (const caller of rule.callers) expect(known.has(caller), `${name}.${method}: ${caller}`).toBe(true);
      }
    }
  });
});

describe('arguments are checked against the contract before the method runs', () => {
  const cases: Array<[caller: string, path: string, args: unknown, field: string]> = [
    [EDGE, 'orders/createOrder', [null], 'args[0]'],
    [EDGE, 'orders/createOrder', [{ customer_id: randomUUID(), items: 'two mugs', idempotency_key: 'k' }], 'args[0].items'],
    [EDGE, 'orders/createOrder', [{ customer_id: randomUUID(), items: [{ product_id: 'nope', quantity: 1 }], idempotency_key: 'k' }], 'args[0].items[0].product_id'],
    [EDGE, 'inventory/adjustStock', ['not-a-uuid', { delta: 1 }], 'args[0]'],
    [EDGE, 'inventory/adjustStock', [randomUUID(), { delta: 'many' }], 'args[1].delta'],
    [EDGE, 'inventory/adjustStock', [randomUUID(), null], 'args[1]'],
    [EDGE, 'inventory/createProduct', [{ sku: 'X-1', name: 'Mug', price_cents: -1, stock_quantity: 1 }], 'args[0].price_cents'],
    [EDGE, 'inventory/createProduct', [{ sku: 'X-1', name: 'Mug', price_cents: 1, stock_quantity: 1 }, { idempotency_key: 7 }], 'args[1].idempotency_key'],
    [EDGE, 'notifications/setContact', [randomUUID(), { email: 5 }], 'args[1].email'],
    [EDGE, 'notifications/setContact', [randomUUID(), { email: 'a@example.test', phone: '555' }], 'args[1].phone'],
    [EDGE, 'notifications/setContact', [null, {}], 'args[0]'],
  ];

  it.each(cases)('%s → %s %j: 400 invalid_input naming %s', async (caller, path, args, field) => {
    const res = await internal(caller, path, args);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalid_input', errors: [{ field, message: expect.any(String) }] });
    expect(res.body.detail).toMatch(new RegExp(`^${field.replace(/[[\].]/g, '\\$&')}: `));
  });

  it('the wrong number of arguments is a 400 too: missing, or one too many', async () => {
    for (const [path, args, detail] of [
      ['orders/createOrder', [], /^args: orders\.createOrder takes 1 argument\(s\), got 0$/],
      ['orders/getOrder', [pendingOrderId, 'extra'], /^args: orders\.getOrder takes 1 argument\(s\), got 2$/],
      ['inventory/createProduct', [{ sku: 'X-2', name: 'Mug', price_cents: 1, stock_quantity: 1 }, {}, 'extra'], /takes 1 to 2 argument\(s\), got 3$/],
      ['notifications/getPushPublicKey', [1], /takes 0 argument\(s\), got 1$/],
    ] as const) {
      const res = await internal(EDGE, path, args);
      expect(res.status, path).toBe(400);
      expect(res.body).toMatchObject({ code: 'invalid_input', detail: expect.stringMatching(detail), errors: [{ field: 'args' }] });
    }
  });

  it('a refused or invalid call never reaches the method: the stock stays as it was', async () => {
    expect((await internal('orders', 'inventory/adjustStock', [productId, { delta: 5 }])).status).toBe(403);
    expect((await internal(EDGE, 'inventory/adjustStock', [productId, { delta: 5, note: 'restock' }])).status).toBe(400);
    expect((await internal(EDGE, 'inventory/getProduct', [productId])).body.result.stock_quantity).toBe(10);
  });
});

describe('an outgoing call is signed as the module making it', () => {
  it('the innermost hand-over names the caller: the edge calling payments, which calls orders, signs as payments', async () => {
    const subjects: string[] = [];
    const subjectOf = async () => JSON.parse(Buffer.from((await credential.token()).split('.')[1]!, 'base64url').toString()).sub as string;
    const orders = handedTo('payments', { getOrder: async () => void subjects.push(await subjectOf()) });
    const payments = handedTo(EDGE, {
      processPayment: async () => {
        subjects.push(await subjectOf());
        await orders.getOrder();
        subjects.push(await subjectOf());
      },
    });
    await payments.processPayment();
    expect(subjects).toEqual(['service:edge', 'service:payments', 'service:edge']);
    expect(callingModule()).toBeUndefined();
    await expect(credential.token()).rejects.toThrow(/must name its calling module/);
  });
});
