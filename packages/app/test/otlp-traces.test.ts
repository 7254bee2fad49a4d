import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startNatsForTests } from '@shop/platform/testing';
import { call } from './http-call.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './otlp-receiver.ts';
import { LAYOUTS, startTopology, type Layout, type RunningTopology } from './topology.ts';

/**
 * One checkout is one trace, across four processes: each module in its own process (NATS
 * between them), every process exporting over OTLP/HTTP to a receiver in this test, which decodes
 * what the exporters really send (protobuf, the default; the orders process sends JSON, so both
 * encodings are read). The client starts the trace, as a browser or a gateway would.
 *
 * NATS is required: from NATS_URL (CI) or a nats-server spawned from PATH; without either the file
 * is skipped, and says so in its name and on stderr.
 */
const nats = await startNatsForTests();
afterAll(() => nats?.stop());

const SKIPPED = 'SKIPPED: no NATS (set NATS_URL, or put nats-server on PATH)';
const KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

describe.skipIf(!nats)(nats ? 'traces across four processes (OTLP)' : `traces across four processes — ${SKIPPED}`, () => {
  let receiver: OtlpReceiver;
  let topology: RunningTopology;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const layout: Layout = {
      name: 'one process per module, traced',
      processes: LAYOUTS.onePerModule.processes.map((spec) => ({
        ...spec,
        env: () => (spec.name === 'orders' ? { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' } : {}),
      })),
    };
    topology = await startTopology(layout, {
      nats: nats!,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' },
    });
  });
  afterAll(async () => {
    await topology?.close();
    await receiver?.close();
  });

  it('create, reservation, payment, confirmation and notification are one trace, with spans from every process and every parent known', async () => {
    const t = topology;
    const traceId = randomBytes(16).toString('hex');
    const clientSpans = [randomBytes(8).toString('hex'), randomBytes(8).toString('hex')];
    const traced = (span: string) => ({ traceparent: `00-${traceId}-${span}-01` });

    // Set up outside the trace: a product, and a customer with an email address.
    const product = await call(t.url('inventory'), 'POST', '/api/products', { token: t.adminToken, body: { sku: `OTLP-${traceId.slice(0, 8)}`, name: 'Traced mug', price_cents: 900, stock_quantity: 5 } });
    expect(product.status).toBe(201);
    const customer = randomUUID();
    const token = await t.tokenFor(customer);
    const email = `otlp-${customer.slice(0, 8)}@example.test`;
    expect((await call(t.url('notifications'), 'PUT', `/api/customers/${customer}/contact`, { token, body: { email } })).status).toBe(200);

    const created = await call(t.url('orders'), 'POST', '/api/orders', {
      token,
      headers: traced(clientSpans[0]!),
      body: { items: [{ product_id: product.body.id, quantity: 1 }], idempotency_key: randomUUID() },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const orderId = created.body.id as string;
    await eventually(async () => expect((await call(t.url('inventory'), 'GET', `/api/products/${product.body.id}`, { token: t.adminToken })).body.reserved_quantity).toBe(1), 30_000, 50);
    const paid = await call(t.url('payments'), 'POST', '/api/payments', {
      token,
      headers: traced(clientSpans[1]!),
      body: { order_id: orderId, payment_method: 'pm_card_visa', idempotency_key: randomUUID() },
    });
    expect(paid.status, JSON.stringify(paid.body)).toBe(201);
    await eventually(() => expect(t.inbox.to(email, `#${orderId.slice(0, 8).toUpperCase()}`)).toHaveLength(1), 30_000, 50);

    const spans = await eventually(() => {
      const ours = receiver.spans.filter((span) => span.traceId === traceId);
      const services = new Set(ours.map((span) => span.resource['service.name']));
      expect([...services].sort()).toEqual(['shop-inventory', 'shop-notifications', 'shop-orders', 'shop-payments']);
      // The last steps' spans: the confirmation email sent, through its SMTP call.
      expect(ours.some((span) => span.name === 'smtp send')).toBe(true);
      return ours;
    }, 30_000, 100);
    expect(receiver.errors).toEqual([]);
    expect(new Set(spans.map((span) => span.encoding))).toEqual(new Set(['application/json', 'application/x-protobuf']));

    // Every parent is a span of the trace, or the client's own span: no parent id that belongs to no span.
    const ids = new Set(spans.map((span) => span.spanId));
    const orphans = spans.filter((span) => span.parentSpanId !== '' && !ids.has(span.parentSpanId) && !clientSpans.includes(span.parentSpanId));
    expect(orphans.map(spanLine), 'spans whose parent is unknown').toEqual([]);
    expect(spans.filter((span) => span.parentSpanId === '').map(spanLine), 'no span starts a trace of its own').toEqual([]);

    const find = (service: string, name: string | RegExp, kind?: number) => {
      const found = spans.filter((span) => span.resource['service.name'] === service && (typeof name === 'string' ? span.name === name : name.test(span.name)) && (kind === undefined || span.kind === kind));
      expect(found.length, `${service}: ${String(name)}\n${spans.map(spanLine).join('\n')}`).toBeGreaterThan(0);
      return found[0]!;
    };
    const parentOf = (span: ReceivedSpan) => spans.find((other) => other.spanId === span.parentSpanId);

    // The request: the server span continues the client's span.
    const createRequest = find('shop-orders', 'POST /api/orders', KIND.server);
    expect(createRequest.parentSpanId).toBe(clientSpans[0]);
    // A module call over HTTP: the client span in orders, the server span and the module's own span in inventory.
    const remoteCall = find('shop-orders', 'inventory.getProducts', KIND.client);
    expect(remoteCall.attributes).toMatchObject({ 'shop.module': 'inventory', 'shop.method': 'getProducts', 'shop.side': 'remote' });
    const served = find('shop-inventory', 'inventory.getProducts', KIND.internal);
    expect(served.attributes['shop.side']).toBe('local');
    const internalRequest = parentOf(served)!;
    expect(internalRequest).toMatchObject({ name: 'POST /internal/:module/:method', kind: KIND.server });
    // …whose parent is the HTTP client span undici's instrumentation made under the module call.
    expect(parentOf(parentOf(internalRequest)!)?.spanId).toBe(remoteCall.spanId);
    // SQL statements, each a span of the unit of work that ran it.
    expect(spans.some((span) => span.resource['service.name'] === 'shop-orders' && (span.attributes['db.system.name'] ?? span.attributes['db.system']) === 'postgresql')).toBe(true);
    // An event: published in orders, handled in inventory as the publisher's child.
    const published = find('shop-orders', 'publish OrderCreated', KIND.producer);
    const reservation = find('shop-inventory', 'handle OrderCreated', KIND.consumer);
    expect(reservation.parentSpanId).toBe(published.spanId);
    // The payment: its request continues the client's second span, and the provider call is a span.
    expect(find('shop-payments', 'POST /api/payments', KIND.server).parentSpanId).toBe(clientSpans[1]);
    find('shop-payments', 'payment-provider charge', KIND.client);
    // Confirmation in orders, notification in notifications, each a reaction to the one before.
    const confirmed = find('shop-orders', 'handle PaymentCaptured', KIND.consumer);
    expect(parentOf(confirmed)?.name).toBe('publish PaymentCaptured');
    const notified = find('shop-notifications', 'handle OrderConfirmed', KIND.consumer);
    expect(parentOf(notified)).toMatchObject({ name: 'publish OrderConfirmed' });
    expect(parentOf(notified)!.resource['service.name']).toBe('shop-orders');
    // The outbox relay: a span of its own, linked to the events it carried.
    const relay = receiver.spans.find((span) => span.name === 'relay orders outbox' && span.links.includes(published.spanId));
    expect(relay, 'the relay of OrderCreated links to its publish span').toBeDefined();
  });
});

function spanLine(span: ReceivedSpan): string {
  return `${String(span.resource['service.name'])} ${span.name} (kind ${span.kind}) ${span.spanId} ← ${span.parentSpanId || 'root'}`;
}
