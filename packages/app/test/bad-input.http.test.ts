import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@shop/platform/testing';
import { startTestApp, type TestApp } from './harness.ts';

/**
 * Every route that takes a body, parameters or a query, fed with bad input. The answer is
 * always a 4xx problem+json with a stable code, never a 5xx; a 400 names the field at fault.
 */

type Who = 'admin' | 'customer' | 'none';

interface Case {
  name: string;
  method: string;
  /** `{product}`, `{order}` and `{customer}` are replaced with real ids. */
  path: string;
  /** A string is sent as is; anything else as JSON. `undefined`: no body. */
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  who?: Who;
  /** Several when more than one answer keeps the contract (e.g. text/plain: 400 or 415). */
  status: number | number[];
  code: string | string[];
  /** For a 400: what the detail must mention (the field). */
  field?: string;
}

const NUL = '\u0000';
const BAD_UUID = 'not-a-uuid';
const ALMOST_UUID = '123e4567-e89b-12d3-a456-42661417400'; // one digit short
const MB2 = 'x'.repeat(2 * 1024 * 1024);

function productBody(overrides: Record<string, unknown> = {}) {
  return { sku: `BAD-${randomUUID().slice(0, 8)}`, name: 'Bad input', price_cents: 100, stock_quantity: 5, ...overrides };
}

function orderBody(items: unknown = [{ product_id: '{product}', quantity: 1 }], extra: Record<string, unknown> = {}) {
  return { items, idempotency_key: `bad-${randomUUID()}`, ...extra };
}

const cases: Case[] = [
  // ---- POST /api/products
  { name: 'products: malformed JSON', method: 'POST', path: '/api/products', body: '{"sku": "A", ', who: 'admin', status: 400, code: 'invalid_input', field: 'body' },
  { name: 'products: empty body with a JSON content-type', method: 'POST', path: '/api/products', body: '', who: 'admin', status: 400, code: 'invalid_input', field: 'body' },
  { name: 'products: null body', method: 'POST', path: '/api/products', body: 'null', who: 'admin', status: 400, code: 'invalid_input', field: 'body' },
  { name: 'products: an array body', method: 'POST', path: '/api/products', body: [productBody()], who: 'admin', status: 400, code: 'invalid_input', field: 'body' },
  { name: 'products: a string body', method: 'POST', path: '/api/products', body: '"hello"', who: 'admin', status: 400, code: 'invalid_input', field: 'body' },
  { name: 'products: text/plain', method: 'POST', path: '/api/products', body: JSON.stringify(productBody()), contentType: 'text/plain', who: 'admin', status: [400, 415], code: ['invalid_input', 'unsupported_media_type'], field: 'body' },
  { name: 'products: form-encoded', method: 'POST', path: '/api/products', body: 'sku=A&name=B', contentType: 'application/x-www-form-urlencoded', who: 'admin', status: [400, 415], code: ['invalid_input', 'unsupported_media_type'], field: 'body' },
  { name: 'products: a 2 MB body', method: 'POST', path: '/api/products', body: productBody({ name: MB2 }), who: 'admin', status: 413, code: 'payload_too_large' },
  { name: 'products: missing sku', method: 'POST', path: '/api/products', body: { name: 'x', price_cents: 1, stock_quantity: 1 }, who: 'admin', status: 400, code: 'invalid_input', field: 'sku' },
  { name: 'products: price as a string', method: 'POST', path: '/api/products', body: productBody({ price_cents: '100' }), who: 'admin', status: 400, code: 'invalid_input', field: 'price_cents' },
  { name: 'products: negative price', method: 'POST', path: '/api/products', body: productBody({ price_cents: -1 }), who: 'admin', status: 400, code: 'invalid_input', field: 'price_cents' },
  { name: 'products: fractional price', method: 'POST', path: '/api/products', body: productBody({ price_cents: 1.5 }), who: 'admin', status: 400, code: 'invalid_input', field: 'price_cents' },
  { name: 'products: huge price', method: 'POST', path: '/api/products', body: productBody({ price_cents: 1e15 }), who: 'admin', status: 400, code: 'invalid_input', field: 'price_cents' },
  { name: 'products: price 1e400', method: 'POST', path: '/api/products', body: '{"sku":"E400","name":"x","price_cents":1e400,"stock_quantity":1}', who: 'admin', status: 400, code: 'invalid_input', field: 'price_cents' },
  { name: 'products: negative stock', method: 'POST', path: '/api/products', body: productBody({ stock_quantity: -5 }), who: 'admin', status: 400, code: 'invalid_input', field: 'stock_quantity' },
  { name: 'products: stock null', method: 'POST', path: '/api/products', body: productBody({ stock_quantity: null }), who: 'admin', status: 400, code: 'invalid_input', field: 'stock_quantity' },
  { name: 'products: stock as an object', method: 'POST', path: '/api/products', body: productBody({ stock_quantity: { n: 1 } }), who: 'admin', status: 400, code: 'invalid_input', field: 'stock_quantity' },
  { name: 'products: unknown field', method: 'POST', path: '/api/products', body: productBody({ reserved_quantity: 3 }), who: 'admin', status: 400, code: 'invalid_input', field: 'reserved_quantity' },
  { name: 'products: NUL in name', method: 'POST', path: '/api/products', body: productBody({ name: `bad${NUL}name` }), who: 'admin', status: 400, code: 'invalid_input', field: 'name' },
  { name: 'products: NUL in sku', method: 'POST', path: '/api/products', body: productBody({ sku: `BAD${NUL}SKU` }), who: 'admin', status: 400, code: 'invalid_input', field: 'sku' },
  { name: 'products: empty name', method: 'POST', path: '/api/products', body: productBody({ name: '' }), who: 'admin', status: 400, code: 'invalid_input', field: 'name' },
  { name: 'products: over-long name', method: 'POST', path: '/api/products', body: productBody({ name: 'n'.repeat(201) }), who: 'admin', status: 400, code: 'invalid_input', field: 'name' },
  { name: 'products: over-long sku', method: 'POST', path: '/api/products', body: productBody({ sku: 'S'.repeat(65) }), who: 'admin', status: 400, code: 'invalid_input', field: 'sku' },
  { name: 'products: sku with spaces', method: 'POST', path: '/api/products', body: productBody({ sku: 'has space' }), who: 'admin', status: 400, code: 'invalid_input', field: 'sku' },
  { name: 'products: unicode-escaped emoji name is fine but 201 chars are not', method: 'POST', path: '/api/products', body: productBody({ name: '😀'.repeat(201) }), who: 'admin', status: 400, code: 'invalid_input', field: 'name' },
  { name: 'products: sku an array', method: 'POST', path: '/api/products', body: productBody({ sku: ['A'] }), who: 'admin', status: 400, code: 'invalid_input', field: 'sku' },
  {
    name: 'products: over-long Idempotency-Key header',
    method: 'POST',
    path: '/api/products',
    body: productBody(),
    headers: { 'idempotency-key': randomBytes(4000).toString('hex') },
    who: 'admin',
    status: 400,
    code: 'invalid_input',
    field: 'idempotency-key',
  },
  {
    name: 'products: Idempotency-Key header with spaces inside',
    method: 'POST',
    path: '/api/products',
    body: productBody(),
    headers: { 'idempotency-key': 'has spaces inside' },
    who: 'admin',
    status: 400,
    code: 'invalid_input',
    field: 'idempotency-key',
  },
  { name: 'products: bad JSON as a customer (403 or 400, never 5xx)', method: 'POST', path: '/api/products', body: '{{', who: 'customer', status: 400, code: 'invalid_input', field: 'body' },

  // ---- GET /api/products, /api/products/:id
  { name: 'products list: page=-1', method: 'GET', path: '/api/products?page=-1', who: 'customer', status: 400, code: 'invalid_input', field: 'page' },
  { name: 'products list: page=abc', method: 'GET', path: '/api/products?page=abc', who: 'customer', status: 400, code: 'invalid_input', field: 'page' },
  { name: 'products list: page=1.5', method: 'GET', path: '/api/products?page=1.5', who: 'customer', status: 400, code: 'invalid_input', field: 'page' },
  { name: 'products list: page=1e400', method: 'GET', path: '/api/products?page=1e400', who: 'customer', status: 400, code: 'invalid_input', field: 'page' },
  { name: 'products list: page huge', method: 'GET', path: '/api/products?page=99999999999999999999', who: 'customer', status: 400, code: 'invalid_input', field: 'page' },
  { name: 'products list: page twice', method: 'GET', path: '/api/products?page=1&page=2', who: 'customer', status: 400, code: 'invalid_input', field: 'page' },
  { name: 'products list: unknown query parameter', method: 'GET', path: '/api/products?size=100', who: 'customer', status: 400, code: 'invalid_input', field: 'size' },
  { name: 'product: malformed UUID', method: 'GET', path: `/api/products/${BAD_UUID}`, who: 'customer', status: 400, code: 'invalid_input', field: 'id' },
  { name: 'product: almost a UUID', method: 'GET', path: `/api/products/${ALMOST_UUID}`, who: 'customer', status: 400, code: 'invalid_input', field: 'id' },
  { name: 'product: SQL in the id', method: 'GET', path: `/api/products/${encodeURIComponent("' OR 1=1 --")}`, who: 'customer', status: 400, code: 'invalid_input', field: 'id' },
  { name: 'product: NUL in the id', method: 'GET', path: '/api/products/%00', who: 'customer', status: 400, code: 'invalid_input', field: 'id' },

  // ---- POST /api/products/:id/stock
  { name: 'stock: malformed UUID', method: 'POST', path: `/api/products/${BAD_UUID}/stock`, body: { delta: 1 }, who: 'admin', status: 400, code: 'invalid_input', field: 'id' },
  { name: 'stock: delta as a string', method: 'POST', path: '/api/products/{product}/stock', body: { delta: '2' }, who: 'admin', status: 400, code: 'invalid_input', field: 'delta' },
  { name: 'stock: fractional delta', method: 'POST', path: '/api/products/{product}/stock', body: { delta: 1.5 }, who: 'admin', status: 400, code: 'invalid_input', field: 'delta' },
  { name: 'stock: delta 1e400', method: 'POST', path: '/api/products/{product}/stock', body: '{"delta": 1e400}', who: 'admin', status: 400, code: 'invalid_input', field: 'delta' },
  { name: 'stock: delta -1e400', method: 'POST', path: '/api/products/{product}/stock', body: '{"delta": -1e400}', who: 'admin', status: 400, code: 'invalid_input', field: 'delta' },
  { name: 'stock: huge delta', method: 'POST', path: '/api/products/{product}/stock', body: { delta: 1e12 }, who: 'admin', status: 400, code: 'invalid_input', field: 'delta' },
  { name: 'stock: delta to just past the maximum', method: 'POST', path: '/api/products/{product}/stock', body: { delta: 1_000_000_000 }, who: 'admin', status: 400, code: 'invalid_input', field: 'delta' },
  { name: 'stock: missing delta', method: 'POST', path: '/api/products/{product}/stock', body: {}, who: 'admin', status: 400, code: 'invalid_input', field: 'delta' },
  { name: 'stock: unknown field', method: 'POST', path: '/api/products/{product}/stock', body: { delta: 1, reason: 'x' }, who: 'admin', status: 400, code: 'invalid_input', field: 'reason' },
  { name: 'stock: array body', method: 'POST', path: '/api/products/{product}/stock', body: [{ delta: 1 }], who: 'admin', status: 400, code: 'invalid_input', field: 'body' },
  { name: 'stock: null body', method: 'POST', path: '/api/products/{product}/stock', body: 'null', who: 'admin', status: 400, code: 'invalid_input', field: 'body' },
  { name: 'stock: no body', method: 'POST', path: '/api/products/{product}/stock', who: 'admin', status: 400, code: 'invalid_input', field: 'body' },
  { name: 'stock: malformed JSON', method: 'POST', path: '/api/products/{product}/stock', body: '{"delta":}', who: 'admin', status: 400, code: 'invalid_input', field: 'body' },
  { name: 'stock: text/plain', method: 'POST', path: '/api/products/{product}/stock', body: '5', contentType: 'text/plain', who: 'admin', status: [400, 415], code: ['invalid_input', 'unsupported_media_type'], field: 'body' },

  // ---- GET /api/reservations
  { name: 'reservations: no order_id', method: 'GET', path: '/api/reservations', who: 'admin', status: 400, code: 'invalid_input', field: 'order_id' },
  { name: 'reservations: malformed order_id', method: 'GET', path: `/api/reservations?order_id=${BAD_UUID}`, who: 'admin', status: 400, code: 'invalid_input', field: 'order_id' },
  { name: 'reservations: empty order_id', method: 'GET', path: '/api/reservations?order_id=', who: 'admin', status: 400, code: 'invalid_input', field: 'order_id' },

  // ---- POST /api/orders
  { name: 'orders: malformed JSON', method: 'POST', path: '/api/orders', body: '{"items": [', who: 'customer', status: 400, code: 'invalid_input', field: 'body' },
  { name: 'orders: trailing garbage', method: 'POST', path: '/api/orders', body: '{"items": []} x', who: 'customer', status: 400, code: 'invalid_input', field: 'body' },
  { name: 'orders: empty body with a JSON content-type', method: 'POST', path: '/api/orders', body: '', who: 'customer', status: 400, code: 'invalid_input', field: 'body' },
  { name: 'orders: null body', method: 'POST', path: '/api/orders', body: 'null', who: 'customer', status: 400, code: 'invalid_input', field: 'body' },
  { name: 'orders: no body at all', method: 'POST', path: '/api/orders', who: 'customer', status: 400, code: 'invalid_input', field: 'body' },
  { name: 'orders: an array body', method: 'POST', path: '/api/orders', body: [orderBody()], who: 'customer', status: 400, code: 'invalid_input', field: 'body' },
  { name: 'orders: a number body', method: 'POST', path: '/api/orders', body: '42', who: 'customer', status: 400, code: 'invalid_input', field: 'body' },
  { name: 'orders: text/plain', method: 'POST', path: '/api/orders', body: JSON.stringify(orderBody()), contentType: 'text/plain', who: 'customer', status: [400, 415], code: ['invalid_input', 'unsupported_media_type'], field: 'body' },
  { name: 'orders: a 2 MB body', method: 'POST', path: '/api/orders', body: orderBody(undefined, { note: MB2 }), who: 'customer', status: 413, code: 'payload_too_large' },
  { name: 'orders: missing items', method: 'POST', path: '/api/orders', body: { idempotency_key: 'k' }, who: 'customer', status: 400, code: 'invalid_input', field: 'items' },
  { name: 'orders: empty items', method: 'POST', path: '/api/orders', body: orderBody([]), who: 'customer', status: 400, code: 'invalid_input', field: 'items' },
  { name: 'orders: items an object', method: 'POST', path: '/api/orders', body: orderBody({ product_id: '{product}', quantity: 1 }), who: 'customer', status: 400, code: 'invalid_input', field: 'items' },
  { name: 'orders: items a string', method: 'POST', path: '/api/orders', body: orderBody('{product}'), who: 'customer', status: 400, code: 'invalid_input', field: 'items' },
  { name: 'orders: an item null', method: 'POST', path: '/api/orders', body: orderBody([null]), who: 'customer', status: 400, code: 'invalid_input', field: 'items' },
  { name: 'orders: an item an array', method: 'POST', path: '/api/orders', body: orderBody([['{product}', 1]]), who: 'customer', status: 400, code: 'invalid_input', field: 'items' },
  { name: 'orders: too many items', method: 'POST', path: '/api/orders', body: orderBody(Array.from({ length: 101 }, () => ({ product_id: randomUUID(), quantity: 1 }))), who: 'customer', status: 400, code: 'invalid_input', field: 'items' },
  { name: 'orders: quantity "2"', method: 'POST', path: '/api/orders', body: orderBody([{ product_id: '{product}', quantity: '2' }]), who: 'customer', status: 400, code: 'invalid_input', field: 'quantity' },
  { name: 'orders: quantity 0', method: 'POST', path: '/api/orders', body: orderBody([{ product_id: '{product}', quantity: 0 }]), who: 'customer', status: 400, code: 'invalid_input', field: 'quantity' },
  { name: 'orders: quantity -1', method: 'POST', path: '/api/orders', body: orderBody([{ product_id: '{product}', quantity: -1 }]), who: 'customer', status: 400, code: 'invalid_input', field: 'quantity' },
  { name: 'orders: quantity 10001', method: 'POST', path: '/api/orders', body: orderBody([{ product_id: '{product}', quantity: 10001 }]), who: 'customer', status: 400, code: 'invalid_input', field: 'quantity' },
  { name: 'orders: quantity 1e400', method: 'POST', path: '/api/orders', body: '{"items":[{"product_id":"{product}","quantity":1e400}],"idempotency_key":"e400"}', who: 'customer', status: 400, code: 'invalid_input', field: 'quantity' },
  { name: 'orders: quantity 1.5', method: 'POST', path: '/api/orders', body: orderBody([{ product_id: '{product}', quantity: 1.5 }]), who: 'customer', status: 400, code: 'invalid_input', field: 'quantity' },
  { name: 'orders: quantity 2^53+1', method: 'POST', path: '/api/orders', body: '{"items":[{"product_id":"{product}","quantity":9007199254740993}],"idempotency_key":"big"}', who: 'customer', status: 400, code: 'invalid_input', field: 'quantity' },
  { name: 'orders: quantity true', method: 'POST', path: '/api/orders', body: orderBody([{ product_id: '{product}', quantity: true }]), who: 'customer', status: 400, code: 'invalid_input', field: 'quantity' },
  { name: 'orders: missing quantity', method: 'POST', path: '/api/orders', body: orderBody([{ product_id: '{product}' }]), who: 'customer', status: 400, code: 'invalid_input', field: 'quantity' },
  { name: 'orders: malformed product_id', method: 'POST', path: '/api/orders', body: orderBody([{ product_id: BAD_UUID, quantity: 1 }]), who: 'customer', status: 400, code: 'invalid_input', field: 'product_id' },
  { name: 'orders: product_id a number', method: 'POST', path: '/api/orders', body: orderBody([{ product_id: 7, quantity: 1 }]), who: 'customer', status: 400, code: 'invalid_input', field: 'product_id' },
  { name: 'orders: product_id with NUL', method: 'POST', path: '/api/orders', body: orderBody([{ product_id: `${NUL}`, quantity: 1 }]), who: 'customer', status: 400, code: 'invalid_input', field: 'product_id' },
  { name: 'orders: the same product twice', method: 'POST', path: '/api/orders', body: orderBody([{ product_id: '{product}', quantity: 1 }, { product_id: '{product}', quantity: 2 }]), who: 'customer', status: 400, code: 'invalid_input', field: 'product_id' },
  { name: 'orders: unknown field on an item', method: 'POST', path: '/api/orders', body: orderBody([{ product_id: '{product}', quantity: 1, unit_price_cents: 1 }]), who: 'customer', status: 400, code: 'invalid_input', field: 'unit_price_cents' },
  { name: 'orders: unknown top-level field', method: 'POST', path: '/api/orders', body: orderBody(undefined, { status: 'delivered' }), who: 'customer', status: 400, code: 'invalid_input', field: 'status' },
  { name: 'orders: malformed customer_id', method: 'POST', path: '/api/orders', body: orderBody(undefined, { customer_id: BAD_UUID }), who: 'customer', status: 400, code: 'invalid_input', field: 'customer_id' },
  { name: 'orders: customer_id null', method: 'POST', path: '/api/orders', body: orderBody(undefined, { customer_id: null }), who: 'customer', status: 400, code: 'invalid_input', field: 'customer_id' },
  { name: 'orders: idempotency_key a number', method: 'POST', path: '/api/orders', body: orderBody(undefined, { idempotency_key: 12 }), who: 'customer', status: 400, code: 'invalid_input', field: 'idempotency_key' },
  { name: 'orders: empty idempotency_key', method: 'POST', path: '/api/orders', body: orderBody(undefined, { idempotency_key: '' }), who: 'customer', status: 400, code: 'invalid_input', field: 'idempotency_key' },
  { name: 'orders: over-long idempotency_key', method: 'POST', path: '/api/orders', body: orderBody(undefined, { idempotency_key: 'k'.repeat(201) }), who: 'customer', status: 400, code: 'invalid_input', field: 'idempotency_key' },
  { name: 'orders: NUL in idempotency_key', method: 'POST', path: '/api/orders', body: orderBody(undefined, { idempotency_key: `k${NUL}` }), who: 'customer', status: 400, code: 'invalid_input', field: 'idempotency_key' },
  {
    name: 'orders: Idempotency-Key header with spaces inside',
    method: 'POST',
    path: '/api/orders',
    body: { items: [{ product_id: '{product}', quantity: 1 }] },
    headers: { 'idempotency-key': 'has spaces inside' },
    who: 'customer',
    status: 400,
    code: 'invalid_input',
    field: 'idempotency-key',
  },
  {
    name: 'orders: over-long Idempotency-Key header',
    method: 'POST',
    path: '/api/orders',
    body: { items: [{ product_id: '{product}', quantity: 1 }] },
    headers: { 'idempotency-key': 'h'.repeat(300) },
    who: 'customer',
    status: 400,
    code: 'invalid_input',
    field: 'idempotency-key',
  },
  {
    name: 'orders: Idempotency-Key header and idempotency_key field disagree',
    method: 'POST',
    path: '/api/orders',
    body: orderBody(undefined, { idempotency_key: 'in-the-body' }),
    headers: { 'idempotency-key': 'in-the-header' },
    who: 'customer',
    status: 400,
    code: 'invalid_input',
    field: 'body.idempotency_key',
  },
  {
    name: 'payments: Idempotency-Key header and idempotency_key field disagree',
    method: 'POST',
    path: '/api/payments',
    body: { order_id: '{order}', payment_method: 'pm_card_visa', idempotency_key: 'in-the-body' },
    headers: { 'idempotency-key': 'in-the-header' },
    who: 'customer',
    status: 400,
    code: 'invalid_input',
    field: 'headers.idempotency-key',
  },

  // ---- GET /api/orders/:id, /api/customers/:customer_id/orders
  { name: 'order: malformed UUID', method: 'GET', path: `/api/orders/${BAD_UUID}`, who: 'customer', status: 400, code: 'invalid_input', field: 'id' },
  { name: 'order: almost a UUID', method: 'GET', path: `/api/orders/${ALMOST_UUID}`, who: 'admin', status: 400, code: 'invalid_input', field: 'id' },
  { name: 'order: over-long id', method: 'GET', path: `/api/orders/${'a'.repeat(5000)}`, who: 'admin', status: 400, code: 'invalid_input', field: 'param' },
  { name: 'order: id of 101 characters', method: 'POST', path: `/api/orders/${'a'.repeat(101)}/cancel`, body: {}, who: 'customer', status: 400, code: 'invalid_input', field: 'param' },
  { name: 'order: bad percent-encoding in the id', method: 'GET', path: '/api/orders/%E0%A4%A', who: 'admin', status: 400, code: 'invalid_input', field: 'param' },
  { name: 'customer orders: malformed customer id', method: 'GET', path: `/api/customers/${BAD_UUID}/orders`, who: 'admin', status: 400, code: 'invalid_input', field: 'customer_id' },
  { name: 'customer orders: page=-1', method: 'GET', path: '/api/customers/{customer}/orders?page=-1', who: 'customer', status: 400, code: 'invalid_input', field: 'page' },
  { name: 'customer orders: page=abc', method: 'GET', path: '/api/customers/{customer}/orders?page=abc', who: 'customer', status: 400, code: 'invalid_input', field: 'page' },
  { name: 'customer orders: page empty', method: 'GET', path: '/api/customers/{customer}/orders?page=', who: 'customer', status: 400, code: 'invalid_input', field: 'page' },

  // ---- POST /api/orders/:id/cancel, ship, deliver
  { name: 'cancel: malformed UUID', method: 'POST', path: `/api/orders/${BAD_UUID}/cancel`, body: { reason: 'x' }, who: 'customer', status: 400, code: 'invalid_input', field: 'id' },
  { name: 'cancel: reason a number', method: 'POST', path: '/api/orders/{order}/cancel', body: { reason: 5 }, who: 'customer', status: 400, code: 'invalid_input', field: 'reason' },
  { name: 'cancel: NUL in reason', method: 'POST', path: '/api/orders/{order}/cancel', body: { reason: `changed${NUL}mind` }, who: 'customer', status: 400, code: 'invalid_input', field: 'reason' },
  { name: 'cancel: over-long reason', method: 'POST', path: '/api/orders/{order}/cancel', body: { reason: 'r'.repeat(501) }, who: 'customer', status: 400, code: 'invalid_input', field: 'reason' },
  { name: 'cancel: empty reason', method: 'POST', path: '/api/orders/{order}/cancel', body: { reason: '' }, who: 'customer', status: 400, code: 'invalid_input', field: 'reason' },
  { name: 'cancel: unknown field', method: 'POST', path: '/api/orders/{order}/cancel', body: { reason: 'x', refund: true }, who: 'customer', status: 400, code: 'invalid_input', field: 'refund' },
  { name: 'cancel: array body', method: 'POST', path: '/api/orders/{order}/cancel', body: ['x'], who: 'customer', status: 400, code: 'invalid_input', field: 'body' },
  { name: 'cancel: string body', method: 'POST', path: '/api/orders/{order}/cancel', body: '"because"', who: 'customer', status: 400, code: 'invalid_input', field: 'body' },
  { name: 'cancel: malformed JSON', method: 'POST', path: '/api/orders/{order}/cancel', body: '{"reason":', who: 'customer', status: 400, code: 'invalid_input', field: 'body' },
  { name: 'cancel: text/plain', method: 'POST', path: '/api/orders/{order}/cancel', body: 'because', contentType: 'text/plain', who: 'customer', status: [400, 415], code: ['invalid_input', 'unsupported_media_type'], field: 'body' },
  { name: 'cancel: a 2 MB body', method: 'POST', path: '/api/orders/{order}/cancel', body: { reason: MB2 }, who: 'customer', status: 413, code: 'payload_too_large' },
  { name: 'ship: malformed UUID', method: 'POST', path: `/api/orders/${BAD_UUID}/ship`, who: 'admin', status: 400, code: 'invalid_input', field: 'id' },
  { name: 'deliver: malformed UUID', method: 'POST', path: `/api/orders/${BAD_UUID}/deliver`, who: 'admin', status: 400, code: 'invalid_input', field: 'id' },

  // ---- admin
  { name: 'admin outbox: unknown status', method: 'GET', path: '/api/admin/outbox?status=bogus', who: 'admin', status: 400, code: 'invalid_input', field: 'status' },
  { name: 'admin outbox: unknown query parameter', method: 'GET', path: '/api/admin/outbox?limit=5', who: 'admin', status: 400, code: 'invalid_input', field: 'limit' },
  { name: 'admin retry: malformed UUID', method: 'POST', path: `/api/admin/outbox/orders/${BAD_UUID}/retry`, who: 'admin', status: 400, code: 'invalid_input', field: 'id' },
  { name: 'admin retry: unknown module', method: 'POST', path: `/api/admin/outbox/nope/${randomUUID()}/retry`, who: 'admin', status: 404, code: 'not_found' },

  // ---- routes and methods that do not exist
  { name: 'unknown route', method: 'GET', path: '/api/nothing-here', who: 'admin', status: 404, code: 'not_found' },
  { name: 'unknown method on a route', method: 'DELETE', path: '/api/products/{product}', who: 'admin', status: 404, code: 'not_found' },
];

describe('bad input', () => {
  let t: TestApp;
  let ids: Record<string, string>;
  let tokens: Record<Who, string | undefined>;

  beforeAll(async () => {
    t = await startTestApp();
    const product = await t.call('POST', '/api/products', {
      token: t.adminToken,
      body: { sku: 'BAD-BASE', name: 'Base', price_cents: 100, stock_quantity: 1000 },
    });
    expect(product.status).toBe(201);
    const customer = randomUUID();
    const customerToken = await t.tokenFor(customer);
    const order = await t.call('POST', '/api/orders', {
      token: customerToken,
      body: { items: [{ product_id: product.body.id, quantity: 1 }], idempotency_key: 'base' },
    });
    expect(order.status).toBe(201);
    ids = { product: product.body.id, order: order.body.id, customer };
    tokens = { admin: t.adminToken, customer: customerToken, none: undefined };
  });
  afterAll(() => t.stop());

  const fill = (text: string) => text.replace(/\{(product|order|customer)\}/g, (_, name: string) => ids[name]!);

  async function send(c: Case) {
    const headers: Record<string, string> = { ...c.headers };
    const token = tokens[c.who ?? 'customer'];
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (c.body !== undefined) {
      body = fill(typeof c.body === 'string' ? c.body : JSON.stringify(c.body));
      headers['content-type'] = c.contentType ?? 'application/json';
    } else if (c.contentType) {
      headers['content-type'] = c.contentType;
    }
    const response = await fetch(t.url + fill(c.path), { method: c.method, headers, body });
    const text = await response.text();
    let parsed: any;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
    return { status: response.status, contentType: response.headers.get('content-type'), body: parsed };
  }

  it.each(cases)('$name → $status $code', async (c) => {
    const res = await send(c);
    const context = `${c.method} ${c.path}: ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`;
    expect(res.status, context).toBeGreaterThanOrEqual(400);
    expect(res.status, context).toBeLessThan(500);
    expect(res.contentType, context).toMatch(/^application\/problem\+json/);
    expect(res.body, context).toMatchObject({ status: res.status, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
    expect(res.body.code, context).toMatch(/^[a-z_]+$/);
    expect([c.status].flat(), context).toContain(res.status);
    expect([c.code].flat(), context).toContain(res.body.code);
    if (res.status === 400) {
      expect(c.field, `case ${c.name} needs a field`).toBeDefined();
      expect(res.body.detail, context).toContain(c.field);
      // Never leak internals in the detail.
      expect(res.body.detail, context).not.toMatch(/database|postgres|SQL|stack|at .*\.ts/i);
    }
  });

  it('missing and wrong content-type on every body route is still a 4xx', async () => {
    for (const [method, path] of [
      ['POST', '/api/products'],
      ['POST', `/api/products/${ids.product}/stock`],
      ['POST', '/api/orders'],
    ] as const) {
      for (const contentType of ['application/xml', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', '']) {
        const res = await send({ name: '', method, path, body: '{}', contentType, who: 'admin', status: 0, code: '' });
        expect(res.status, `${method} ${path} ${contentType}: ${JSON.stringify(res.body)}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${method} ${path} ${contentType}`).toBeLessThan(500);
        expect(res.contentType).toMatch(/^application\/problem\+json/);
      }
    }
  });

  it('leaves the state untouched and the process up after all of it', async () => {
    // None of the bad requests created, changed or cancelled anything.
    const product = await t.call('GET', `/api/products/${ids.product}`, { token: t.adminToken });
    expect(product.body).toMatchObject({ sku: 'BAD-BASE', stock_quantity: 1000 });
    const order = await t.call('GET', `/api/orders/${ids.order}`, { token: t.adminToken });
    expect(order.body.status).toBe('pending');
    const { rows } = await t.app.database.pool.query(`SELECT count(*)::int AS n FROM inventory.products`);
    expect(rows[0].n).toBe(1);
    const orders = await t.app.database.pool.query(`SELECT count(*)::int AS n FROM orders.orders`);
    expect(orders.rows[0].n).toBe(1);
    await eventually(async () => expect((await t.call('GET', `/api/products/${ids.product}`, { token: t.adminToken })).body.reserved_quantity).toBe(1));

    const health = await t.call('GET', '/health');
    expect(health.status).toBe(200);
    // And still serves real work.
    const another = await t.call('POST', '/api/orders', {
      token: tokens.customer,
      body: { items: [{ product_id: ids.product, quantity: 2 }], idempotency_key: 'after-the-storm' },
    });
    expect(another.status).toBe(201);
  });
});
