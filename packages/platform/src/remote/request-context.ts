import { AsyncLocalStorage } from 'node:async_hooks';
import { randomFillSync } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

/** What follows a request across processes: its id, and its W3C trace context. */
export interface RequestContext {
  readonly requestId: string;
  /** 32 hex digits, shared by every process the request touches. */
  readonly traceId: string;
  /** 16 hex digits: this process's part of the trace. */
  readonly spanId: string;
  readonly sampled: boolean;
}

const storage = new AsyncLocalStorage<RequestContext>();

/**
 * Trace and span ids are random but not secret: they are cut from a buffer refilled 4 KiB at a
 * time. One `randomBytes` per id (three per order, with its events) was 3.5% of the app's CPU
 * under POST /api/orders load (bench/profile.ts).
 */
const randomPool = Buffer.alloc(4096);
let randomOffset = randomPool.length;
function randomHex(bytes: number): string {
  if (randomOffset + bytes > randomPool.length) {
    randomFillSync(randomPool);
    randomOffset = 0;
  }
  randomOffset += bytes;
  return randomPool.toString('hex', randomOffset - bytes, randomOffset);
}
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}

/** Runs `work` inside a context (a request, or an event handled on its behalf). */
export function runWithRequestContext<T>(context: RequestContext, work: () => T): T {
  return storage.run(context, work);
}

/** Continues the caller's trace when it sent a valid `traceparent`; otherwise starts one. */
export function contextFrom(requestId: string, traceparent: string | undefined): RequestContext {
  const match = traceparent ? TRACEPARENT.exec(traceparent) : null;
  const traceId = match && !/^0+$/.test(match[1]!) ? match[1]! : randomHex(16);
  return { requestId, traceId, spanId: randomHex(8), sampled: match ? (parseInt(match[3]!, 16) & 1) === 1 : true };
}

/** The headers an outgoing call carries: the same request id, and the trace continued. */
export function propagationHeaders(context = currentRequestContext()): Record<string, string> {
  if (!context) return {};
  const child = randomHex(8);
  return { 'x-request-id': context.requestId, traceparent: `00-${context.traceId}-${child}-${context.sampled ? '01' : '00'}` };
}

/**
 * Runs a consumer's handling of an event in the trace of the change that published it (the
 * event's `traceparent`), so a request and every reaction to it, in any process, share a trace.
 */
export function runInEventContext<T>(event: { id: string; traceparent?: string | undefined }, work: () => T): T {
  return storage.run(contextFrom(event.id, event.traceparent), work);
}

/** Every request runs in its context (and so its log lines carry the trace id: see createLogger). */
export function installRequestContext(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const header = request.headers.traceparent;
    storage.run(contextFrom(request.id, typeof header === 'string' ? header : undefined), done);
  });
}
