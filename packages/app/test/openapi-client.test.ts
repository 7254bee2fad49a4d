import { spawn } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './harness.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * A client program as a user of the API writes it: types generated from the served document,
 * openapi-fetch for the calls. It names the operations (by operationId) and the schemas the
 * checkout needs, so a rename or removal in the document fails `tsc` here.
 */
const CHECKOUT_CLIENT = `
import createClient from 'openapi-fetch';
import type { components, operations, paths } from './schema.ts';

type Product = components['schemas']['Product'];
type Order = components['schemas']['Order'];
type Payment = components['schemas']['Payment'];
type Problem = components['schemas']['Problem'];
type CreateProductBody = operations['createProduct']['requestBody']['content']['application/json'];
type CreateOrderBody = operations['createOrder']['requestBody']['content']['application/json'];
type CreatePaymentBody = operations['createPayment']['requestBody']['content']['application/json'];
type OrderRead = operations['getOrder']['responses'][200]['content']['application/json'];
type Declined = operations['createPayment']['responses'][402]['content']['application/problem+json'];

export interface Checkout {
  product: Product;
  order: Order;
  payment: Payment;
  confirmed: OrderRead;
}

function fail(step: string, problem: Problem | undefined): never {
  throw new Error(step + ' failed: ' + JSON.stringify(problem));
}

export async function checkout(baseUrl: string, tokens: { admin: string; customer: string }, unique: string): Promise<Checkout> {
  const admin = createClient<paths>({ baseUrl, headers: { authorization: 'Bearer ' + tokens.admin } });
  const customer = createClient<paths>({ baseUrl, headers: { authorization: 'Bearer ' + tokens.customer } });

  const newProduct: CreateProductBody = { sku: 'MUG-' + unique, name: 'Coffee mug', price_cents: 1250, stock_quantity: 10 };
  const product = await admin.POST('/api/products', { body: newProduct, params: { header: { 'Idempotency-Key': 'product-' + unique } } });
  if (!product.data) fail('createProduct', product.error);

  const newOrder: CreateOrderBody = { items: [{ product_id: product.data.id, quantity: 2 }], idempotency_key: 'order-' + unique };
  const order = await customer.POST('/api/orders', { body: newOrder });
  if (!order.data) fail('createOrder', order.error);

  const pay: CreatePaymentBody = { order_id: order.data.id, payment_method: 'pm_card_visa', idempotency_key: 'pay-' + unique };
  const payment = await customer.POST('/api/payments', { body: pay });
  if (!payment.data) {
    const problem: Declined | Problem | undefined = payment.error;
    fail('createPayment', problem);
  }

  // PaymentCaptured confirms the order shortly after.
  for (let attempt = 0; ; attempt++) {
    const read = await customer.GET('/api/orders/{id}', { params: { path: { id: order.data.id } } });
    if (!read.data) fail('getOrder', read.error);
    if (read.data.status === 'confirmed' || attempt === 100) {
      return { product: product.data, order: order.data, payment: payment.data, confirmed: read.data };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
`;

/** What the test sees of the generated program (the program itself is checked by tsc). */
interface CheckoutModule {
  checkout(baseUrl: string, tokens: { admin: string; customer: string }, unique: string): Promise<Record<'product' | 'order' | 'payment' | 'confirmed', { id: string }>>;
}

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'ESNext',
    moduleResolution: 'Bundler',
    lib: ['ES2022', 'DOM'],
    types: [],
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    allowImportingTsExtensions: true,
    noEmit: true,
    skipLibCheck: true,
  },
  include: ['*.ts'],
};

/** `tsc --noEmit` on the folder's tsconfig: its exit code and what it printed. */
function typeCheck(directory: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', directory], { cwd: directory });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

/** A folder holding the generated types for `document` and the checkout client, ready for tsc. */
async function clientProject(document: OpenAPI3): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), 'shop-openapi-client-'));
  await symlink(path.join(ROOT, 'node_modules'), path.join(directory, 'node_modules'), 'dir');
  await writeFile(path.join(directory, 'schema.ts'), astToString(await openapiTS(document)));
  await writeFile(path.join(directory, 'checkout.ts'), CHECKOUT_CLIENT);
  await writeFile(path.join(directory, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  return directory;
}

describe('a client generated from the served OpenAPI document', () => {
  let t: TestApp;
  let document: OpenAPI3;
  const folders: string[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    const response = await fetch(`${t.app.adminUrl}/openapi.json`);
    expect(response.status).toBe(200);
    document = (await response.json()) as OpenAPI3;
  });
  afterAll(async () => {
    await t.stop();
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  it('type-checks a checkout program and runs it against the server', async () => {
    expect(document.servers?.[0]?.url).toBe(t.app.url);
    const directory = await clientProject(document);
    folders.push(directory);
    const checked = await typeCheck(directory);
    expect(checked.output).toBe('');
    expect(checked.code).toBe(0);

    // The very program tsc accepted, run for real.
    const { checkout } = (await import(path.join(directory, 'checkout.ts'))) as CheckoutModule;
    const customerId = '3f1c8a52-7a7e-4c39-9d55-0a1b2c3d4e5f';
    const result = await checkout(t.url, { admin: t.adminToken, customer: await t.tokenFor(customerId) }, `${Date.now()}`);
    expect(result.product).toMatchObject({ name: 'Coffee mug', price_cents: 1250, stock_quantity: 10 });
    expect(result.order).toMatchObject({ customer_id: customerId, status: 'pending', total_cents: 2500 });
    expect(result.payment).toMatchObject({ order_id: result.order.id, amount_cents: 2500, status: 'captured' });
    expect(result.confirmed).toMatchObject({ id: result.order.id, status: 'confirmed' });
  });

  it('fails to type-check once an operationId the checkout uses is gone', async () => {
    const renamed = structuredClone(document);
    const createOrder = (renamed.paths?.['/api/orders'] as { post?: { operationId?: string } } | undefined)?.post;
    expect(createOrder?.operationId).toBe('createOrder');
    createOrder!.operationId = 'placeOrder';
    const directory = await clientProject(renamed);
    folders.push(directory);
    const checked = await typeCheck(directory);
    expect(checked.code).not.toBe(0);
    expect(checked.output).toMatch(/createOrder/);
  });
});
