import {
  ROOT_CONTEXT,
  context,
  createContextKey,
  isSpanContextValid,
  propagation,
  trace,
  type Context,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import type { EventEnvelope } from '@shop/contract-kit';
import type { FastifyInstance } from 'fastify';

/**
 * What follows a request across processes is OpenTelemetry's context: its trace (W3C
 * `traceparent`) and the request id (`x-request-id`), carried by one propagator. The context
 * manager and the propagator are registered whether tracing is on or not: with tracing off no
 * span is built, and a caller's trace still passes through (its `traceparent` goes on to the
 * calls and events made on its behalf, and log lines carry its trace id).
 */
const REQUEST_ID = createContextKey('shop.request_id');
const VALID_REQUEST_ID = /^[\w.:-]{1,128}$/;

class RequestIdPropagator implements TextMapPropagator {
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const id = ctx.getValue(REQUEST_ID);
    if (typeof id === 'string') setter.set(carrier, 'x-request-id', id);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    const given = getter.get(carrier, 'x-request-id');
    const id = Array.isArray(given) ? given[0] : given;
    return typeof id === 'string' && VALID_REQUEST_ID.test(id) ? ctx.setValue(REQUEST_ID, id) : ctx;
  }

  fields(): string[] {
    return ['x-request-id'];
  }
}

// Once per process. The API keeps its globals on `globalThis`: a second copy of this module (a
// test runner's fresh module graph) finds them set and uses them; they behave the same.
context.setGlobalContextManager(new AsyncLocalStorageContextManager());
propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new RequestIdPropagator()] }));

/** The trace and span ids of the active context, for log lines; none outside a trace. */
export function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  const span = trace.getSpan(context.active());
  if (!span) return undefined;
  const ids = span.spanContext();
  return isSpanContextValid(ids) ? { trace_id: ids.traceId, span_id: ids.spanId } : undefined;
}

/** The request id of the active context: the request being served, or the event being handled. */
export function activeRequestId(): string | undefined {
  const id = context.active().getValue(REQUEST_ID);
  return typeof id === 'string' ? id : undefined;
}

/** The headers a call out of the process carries: the trace continued, and the request id. */
export function propagationHeaders(from: Context = context.active()): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(from, headers);
  return headers;
}

/** The `traceparent` of a context (a span's, or the remote parent passed through): what an event carries. */
export function traceparentOf(from: Context): string | null {
  return propagationHeaders(from).traceparent ?? null;
}

/** The context an event was published in (its `traceparent`), with the event's id as request id. */
export function eventContext(event: Pick<EventEnvelope, 'id' | 'traceparent'>): Context {
  const extracted = event.traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent: event.traceparent }) : ROOT_CONTEXT;
  return extracted.setValue(REQUEST_ID, event.id);
}

/** Runs `work` in a context (a request's, an event's). */
export function runInContext<T>(ctx: Context, work: () => T): T {
  return context.with(ctx, work);
}

/**
 * Every request runs in its context: the caller's trace (or the server span tracing made for it,
 * which already continues that trace), and the request's id. Log lines and calls out read it.
 */
export function installRequestContext(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const active = context.active();
    const parent = trace.getSpan(active) ? active : propagation.extract(ROOT_CONTEXT, request.headers);
    context.with(parent.setValue(REQUEST_ID, request.id), done);
  });
}
