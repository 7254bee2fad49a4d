import { createRequire } from 'node:module';
import os from 'node:os';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, trace, type Attributes, type Context, type Link, type Span, type Tracer } from '@opentelemetry/api';
import { isModuleError, type EventEnvelope } from '@shop/contract-kit';
import type { FastifyPluginCallback } from 'fastify';
import type { TracingConfig } from './tracing-config.ts';
import { eventContext, traceparentOf } from './trace-context.ts';

/**
 * Traces, when a process exports them (`startTracing`, see tracing-config.ts): the real SDK, one
 * span per request (@fastify/otel), module call (by side: local, remote, shadow), SQL statement
 * (instrumentation-pg), outgoing HTTP (instrumentation-undici), event published, relayed and
 * handled, and call to a provider. Until then `tracer` is OpenTelemetry's no-op, and every helper
 * here takes its untraced path first: with tracing off no span is built.
 */
let tracer: Tracer | undefined;
let shutdown: (() => Promise<void>) | undefined;
let fastifyPlugin: FastifyPluginCallback | undefined;

export function isTracing(): boolean {
  return tracer !== undefined;
}

export interface TracedProcess {
  /** `service.name` unless `OTEL_SERVICE_NAME` (or `OTEL_RESOURCE_ATTRIBUTES`) says otherwise. */
  readonly serviceName: string;
  readonly version: string;
  /** Which modules this process hosts (`shop.modules`). */
  readonly modules: readonly string[];
}

/** Starts the SDK (loaded only now: a process that does not trace never loads it). Once per process. */
export async function startTracing(config: TracingConfig, process: TracedProcess): Promise<void> {
  if (tracer) return;
  const [sdk, resources, { PgInstrumentation }, { UndiciInstrumentation }, { FastifyOtelInstrumentation }, pg] = await Promise.all([
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/instrumentation-pg'),
    import('@opentelemetry/instrumentation-undici'),
    import('@fastify/otel'),
    import('pg'),
  ]);
  const exporter =
    config.exporter === 'console'
      ? new sdk.ConsoleSpanExporter()
      : config.protocol === 'http/json'
        ? new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter()
        : new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
  const resource = resources
    .defaultResource()
    .merge(
      resources.resourceFromAttributes({
        'service.name': process.serviceName,
        'service.version': process.version,
        'service.instance.id': `${os.hostname()}:${globalThis.process.pid}`,
        'shop.modules': [...process.modules],
      }),
    )
    // The standard variables win over the defaults above.
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const ratio = new sdk.TraceIdRatioBasedSampler(config.sampler.ratio);
  const samplers = {
    always_on: new sdk.AlwaysOnSampler(),
    always_off: new sdk.AlwaysOffSampler(),
    traceidratio: ratio,
    parentbased_always_on: new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() }),
    parentbased_always_off: new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() }),
    parentbased_traceidratio: new sdk.ParentBasedSampler({ root: ratio }),
  };
  const provider = new sdk.TracerProvider({
    resource,
    sampler: samplers[config.sampler.kind],
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter, ...config.batch })],
  });
  trace.setGlobalTracerProvider(provider);

  // SQL: pg's client is patched where it is, not through a module loader hook (the app is an ES
  // module bundle, which require-time hooks never see). Only statements made inside a traced
  // unit of work become spans: pollers and heartbeats would otherwise fill the backend.
  const sqlSpans = new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true });
  sqlSpans.setTracerProvider(provider);
  const pgModule = (pg as { default?: unknown }).default ?? pg;
  const pgVersion = (createRequire(import.meta.url)('pg/package.json') as { version: string }).version;
  for (const definition of sqlSpans.getModuleDefinitions()) if (definition.name === 'pg') definition.patch?.(pgModule, pgVersion);
  // Outgoing HTTP through undici (module calls between processes, fetch): it reads undici's
  // diagnostics channels, and it is what puts the trace on the wire for those calls.
  const httpSpans = new UndiciInstrumentation({ requireParentforSpans: true });
  httpSpans.setTracerProvider(provider);
  const requestSpans = new FastifyOtelInstrumentation({
    // The request span only: hook and handler spans would be named after anonymous plugins' source.
    instrumentHooks: false,
    instrumentHandler: false,
    ignorePaths: ({ url }) => url === '/health' || url === '/ready' || url === '/metrics',
    requestHook: (span, request) => span.updateName(`${request.method} ${request.routeOptions.url ?? 'unmatched route'}`),
  });
  requestSpans.setTracerProvider(provider);
  fastifyPlugin = requestSpans.plugin() as FastifyPluginCallback;

  tracer = provider.getTracer('@shop/platform', process.version);
  shutdown = async () => {
    httpSpans.disable();
    await provider.shutdown(); // exports what is still queued
  };
}

/** Exports the spans still queued and stops; tracing is off afterwards. */
export async function stopTracing(): Promise<void> {
  const stop = shutdown;
  tracer = undefined;
  shutdown = undefined;
  fastifyPlugin = undefined;
  await stop?.();
}

/** The request spans' Fastify plugin, while tracing: registered before any route. */
export function requestTracingPlugin(): FastifyPluginCallback | undefined {
  return fastifyPlugin;
}

/**
 * Runs `work` in a new span (a child of `parent`, the active context by default), ended when the
 * work settles; an error the work throws marks it, a module's own error (an answer, like
 * `not_found`) is only named. Callers check `isTracing()` first.
 */
export async function inSpan<T>(name: string, kind: SpanKind, attributes: Attributes, work: () => Promise<T>, parent: Context = context.active(), links?: Link[]): Promise<T> {
  const span = tracer!.startSpan(name, { kind, attributes, ...(links ? { links } : {}) }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), work);
  } catch (error) {
    markFailed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

function markFailed(span: Span, error: unknown): void {
  if (isModuleError(error)) {
    span.setAttribute('shop.error_code', error.code);
    if (error.status < 500) return;
  }
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/**
 * A module's method called, with the side that served it: `local` (in this process), `remote`
 * (the client's span; the host adds its own `local` one), or `shadow` (the copy on trial).
 */
export function traceModuleCall<T>(module: string, method: string, side: 'local' | 'remote' | 'shadow', work: () => Promise<T>): Promise<T> {
  return inSpan(`${module}.${method}`, side === 'remote' ? SpanKind.CLIENT : SpanKind.INTERNAL, { 'shop.module': module, 'shop.method': method, 'shop.side': side }, work);
}

/** A call to a service outside the system (a payment provider, a mail server, a push service). */
export function traceExternalCall<T>(module: string, service: string, operation: string, work: () => Promise<T>): Promise<T> {
  return inSpan(`${service} ${operation}`, SpanKind.CLIENT, { 'shop.module': module, 'peer.service': service, 'shop.operation': operation }, work);
}

/** Where each event being handled is handled: the context a reaction to it is published from. */
const handling = new WeakMap<EventEnvelope, Context>();

/**
 * Runs a consumer's handling of events. One event: in its trace (the publisher's span is the
 * parent), so a request and every reaction to it, in any process, are one trace. A batch: each
 * event still gets its span in its own trace, and the batch's work (its SQL) runs in a span of
 * its own linked to them. Untraced, an event's trace still passes through to what it causes.
 */
export function handleEvents<T>(consumer: string, events: readonly EventEnvelope[], work: () => Promise<T>): Promise<T> {
  if (!tracer) return events.length === 1 ? context.with(eventContext(events[0]!), work) : work();
  const attributes = (event: EventEnvelope): Attributes => ({
    'messaging.operation.type': 'process',
    'messaging.message.id': event.id,
    'messaging.destination.name': event.type,
    'shop.consumer': consumer,
  });
  if (events.length === 1) {
    const event = events[0]!;
    return inSpan(`handle ${event.type}`, SpanKind.CONSUMER, attributes(event), () => {
      handling.set(event, context.active());
      return work();
    }, eventContext(event));
  }
  const spans = events.map((event) => {
    const parent = eventContext(event);
    const span = tracer!.startSpan(`handle ${event.type}`, { kind: SpanKind.CONSUMER, attributes: { ...attributes(event), 'messaging.batch.message_count': events.length } }, parent);
    handling.set(event, trace.setSpan(parent, span));
    return span;
  });
  const links = spans.map((span) => ({ context: span.spanContext() }));
  return inSpan(`handle batch of ${events.length}`, SpanKind.CONSUMER, { 'shop.consumer': consumer, 'messaging.batch.message_count': events.length }, work, context.active(), links).finally(() => {
    for (const span of spans) span.end();
  });
}

/** The `traceparent` of an event's handling (its consumer span; untraced, the event's own): for work queued by it to continue. */
export function handlingTraceparent(event: EventEnvelope): string | null {
  return traceparentOf(handling.get(event) ?? eventContext(event));
}

/**
 * The `traceparent` an event is published with: a span of its own (traced), child of what caused
 * it (the event being handled, else the request); untraced, the cause's trace passed through.
 */
export function publishedTraceparent(type: string, source: string, cause?: Pick<EventEnvelope, 'id' | 'traceparent'>): string | null {
  const parent = cause ? (handling.get(cause as EventEnvelope) ?? eventContext(cause)) : context.active();
  if (!tracer) return traceparentOf(parent);
  const span = tracer.startSpan(`publish ${type}`, { kind: SpanKind.PRODUCER, attributes: { 'messaging.operation.type': 'create', 'messaging.destination.name': type, 'shop.module': source } }, parent);
  // Publishing is a row written in the transaction: the span marks where the event came from.
  span.end();
  return traceparentOf(trace.setSpan(parent, span));
}

/** An outbox batch relayed to the bus: one span, linked to the span each event was published in. */
export function traceRelay<T>(source: string, events: readonly Pick<EventEnvelope, 'id' | 'traceparent'>[], work: () => Promise<T>): Promise<T> {
  if (!tracer) return work();
  const links: Link[] = [];
  for (const event of events) {
    const published = trace.getSpanContext(eventContext(event));
    if (published) links.push({ context: published });
  }
  return inSpan(`relay ${source} outbox`, SpanKind.PRODUCER, { 'messaging.operation.type': 'send', 'messaging.batch.message_count': events.length, 'shop.module': source }, work, ROOT_CONTEXT, links);
}
