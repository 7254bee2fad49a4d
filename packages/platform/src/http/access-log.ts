import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from '../logger.ts';
import { activeTraceIds } from '../telemetry/trace-context.ts';

/**
 * `ACCESS_LOG=on`: one JSON line per answered request (`msg: "request"`) with its method, route
 * template, path, status, duration, request id and trace id. Off by default: a line per request
 * is a real cost at thousands of requests a second (see docs/performance.md), and metrics already
 * count requests per route. Installed after the request context, so the trace id is the one the
 * request's other log lines and outgoing calls carry.
 */
export function installAccessLog(app: FastifyInstance, logger: Logger): void {
  const traces = new WeakMap<FastifyRequest, string>();
  app.addHook('onRequest', (request, _reply, done) => {
    const ids = activeTraceIds();
    if (ids) traces.set(request, ids.trace_id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const query = request.url.indexOf('?');
    logger.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        path: query === -1 ? request.url : request.url.slice(0, query),
        status: reply.statusCode,
        duration_ms: Math.round(reply.elapsedTime * 100) / 100,
        request_id: request.id,
        trace_id: traces.get(request) ?? null,
      },
      'request',
    );
    done();
  });
}
