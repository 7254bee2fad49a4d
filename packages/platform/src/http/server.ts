import { installAccessLog } from './access-log.ts';
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Type } from 'typebox';
import { ModuleError } from '@shop/contract-kit';
import type { Logger } from 'pino';
import { PlatformErrors } from '../errors.ts';
import { installRequestContext } from '../telemetry/trace-context.ts';
import { requestTracingPlugin } from '../telemetry/tracing.ts';
import type { Telemetry } from '../telemetry/metrics.ts';
import type { TokenVerifier } from './auth.ts';
import { servedDocument, swaggerOptions, type ApiTag } from './openapi.ts';
import { installProblemHandling, problemOf, sendProblem } from './problem.ts';
import { installValidation } from './validation.ts';

export interface HttpServerOptions {
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  readonly verifier: TokenVerifier;
  /** Route plugins mounted under `/api`, behind authentication (one per module, plus admin). */
  readonly apiRoutes: readonly FastifyPluginAsync[];
  /** Routes mounted under `/internal` for other processes of the deployment (service credentials only). */
  readonly internalRoutes?: FastifyPluginAsync;
  /**
   * Operators' pages mounted at the root under `/admin` (the app's console), without auth (the
   * data they read comes from `/api/admin/...`, which needs an admin token). With
   * `separateAdmin` they are operations routes: served only by the admin listener.
   */
  readonly operationsRoutes?: readonly FastifyPluginAsync[];
  /** Whether this process can serve: database reachable, migrations applied. */
  readonly readiness: () => Promise<{ ready: boolean; detail?: string }>;
  /**
   * True once the process is shutting down: `/ready` answers 503 so load balancers stop sending,
   * every other request is still served, and each response says `Connection: close` so no
   * client keeps (and later reuses) a connection the process is about to close.
   */
  readonly draining?: () => boolean;
  readonly version: string;
  /** The OpenAPI document's tag of each module: its name and what it does. */
  readonly moduleTags?: readonly ApiTag[];
  /**
   * The operations routes (`/metrics`, `/docs`, `/openapi.json`) are served only by the admin
   * listener (`listenAdmin`), and answer 404 here; unset, they are served with the rest.
   */
  readonly separateAdmin?: boolean;
  /** One log line per answered request (`ACCESS_LOG=on`); off by default. */
  readonly accessLog?: boolean;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;
const ProbeStatus = Type.Object({ status: Type.String() });

/** The largest request body accepted (413 `payload_too_large` above). */
export const BODY_LIMIT_BYTES = 1024 * 1024;
/**
 * How much of a body the server reads and throws away before answering with a response that
 * closes the connection (a 413, a parser error, anything while draining): 8 MB or 5 seconds,
 * whichever comes first. Beyond that the connection is closed with the client still sending, and
 * the client may see a reset instead of the answer.
 */
export const BODY_DISCARD_LIMIT = { bytes: 8 * 1024 * 1024, ms: 5_000 } as const;

/**
 * The HTTP edge every process shares: problem+json errors, request ids, strict validation,
 * JWT auth on `/api`, metrics per route, the OpenAPI document built from the route schemas,
 * and the platform routes (`/health`, `/ready`, `/metrics`, `/openapi.json`, `/docs`).
 */
export async function buildHttpServer(options: HttpServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // Requests are counted in metrics, not logged one by one: a log line per request halves throughput.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    bodyLimit: BODY_LIMIT_BYTES,
    return503OnClosing: true,
    // Bytes that are not HTTP (a bad request line or header, a body sent without Content-Length):
    // problem+json and a clean close, never a reply read as the answer to another request.
    clientErrorHandler: answerClientError,
    // At close, idle keep-alive connections are closed at once (busy ones after their response).
    forceCloseConnections: 'idle',
    // Errors the router raises before any route runs (a path parameter over 100 characters, bad
    // percent-encoding) would otherwise leave as Fastify's own JSON, not problem+json.
    // Hooks do not run for them, so the request id is set here too.
    frameworkErrors: (error, request, reply) => {
      reply.header('x-request-id', request.id);
      const detail =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'params: a path parameter is longer than 100 characters' : 'params: the path is not a valid URL (bad percent-encoding)';
      sendProblem(reply, new ModuleError(PlatformErrors.invalidInput, detail));
    },
  });
  // Traced, each request's span starts first (it continues the caller's trace), before any hook or route.
  const tracing = requestTracingPlugin();
  if (tracing) await app.register(tracing);
  installValidation(app);
  installProblemHandling(app);
  installRequestContext(app);
  installRequestTelemetry(app, options.telemetry);
  if (options.accessLog) installAccessLog(app, options.logger);
  if (options.draining) installDraining(app, options.draining);
  installBodyDiscard(app); // after the draining hook: it sees the Connection: close that one sets
  if (options.separateAdmin) installAdminSplit(app);

  await app.register(swagger, swaggerOptions(options.version, options.moduleTags ?? []));
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    transformSpecification: (document, request) => servedDocument(document, app, request, adminRequests.has(request.raw)),
    transformSpecificationClone: false,
  });

  app.get('/health', { schema: { tags: ['platform'], operationId: 'getHealth', summary: 'The process is alive', response: { 200: ProbeStatus } } }, async () => ({ status: 'ok' }));
  app.get(
    '/ready',
    {
      schema: {
        tags: ['platform'],
        operationId: 'getReadiness',
        summary: 'The process can serve: database reachable, migrations applied, not shutting down',
        response: { 200: ProbeStatus },
        errors: [PlatformErrors.unavailable],
      },
    },
    async (_request, reply) => {
      if (options.draining?.()) return sendProblem(reply, new ModuleError(PlatformErrors.unavailable, 'shutting down'));
      const { ready, detail } = await options.readiness();
      if (ready) return { status: 'ready' };
      return sendProblem(reply, new ModuleError(PlatformErrors.unavailable, detail ?? 'not ready'));
    },
  );
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(options.telemetry.registry.contentType).send(await options.telemetry.registry.metrics()),
  );
  app.get('/openapi.json', { schema: { hide: true } }, async (request) => servedDocument(app.swagger(), app, request, adminRequests.has(request.raw)));

  await app.register(
    async (api) => {
      api.addHook('onRequest', async (request) => {
        request.principal = await options.verifier.verify(request.headers.authorization);
      });
      for (const routes of options.apiRoutes) await api.register(routes);
    },
    { prefix: '/api' },
  );
  if (options.internalRoutes) await app.register(options.internalRoutes, { prefix: '/internal' });
  for (const routes of options.operationsRoutes ?? []) await app.register(routes);
  return app;
}

/** Requests that came in through the admin listener. */
const adminRequests = new WeakSet<IncomingMessage>();

const isOperationsRoute = (route: string | undefined) =>
  route === '/metrics' || route === '/openapi.json' || route === '/docs' || route?.startsWith('/docs/') === true || route === '/admin' || route?.startsWith('/admin/') === true;
/** The admin JSON API the console (`/admin`) reads: served by both listeners (an admin token is still required). */
const isAdminApiRoute = (route: string | undefined) => route?.startsWith('/api/admin/') === true;
const isProbeRoute = (route: string | undefined) => route === '/health' || route === '/ready';

/**
 * One Fastify instance behind two listeners. Decided by the matched route, not the raw path
 * (so no spelling of a path slips through): the operations routes (and the console at `/admin`)
 * only through the admin listener, which serves nothing else but the probes and the admin JSON
 * API the console calls (`/api/admin/...`, same origin). Both answer 404 problem+json otherwise.
 */
function installAdminSplit(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    const route = request.routeOptions.url;
    const allowed = adminRequests.has(request.raw) ? isOperationsRoute(route) || isProbeRoute(route) || isAdminApiRoute(route) : !isOperationsRoute(route);
    if (allowed) return done();
    // Responding from a callback hook: send, and do not call done.
    sendProblem(reply, new ModuleError(PlatformErrors.notFound, `no route for ${request.method} ${request.url.split('?')[0]}`));
  });
}

export interface AdminListener {
  /** The port it listens on. */
  readonly port: number;
  /** Stops accepting, closes idle connections, and waits for the in-flight requests. */
  close(): Promise<void>;
}

/**
 * The admin listener of a server built with `separateAdmin`: `/metrics`, `/docs`,
 * `/openapi.json`, `/health` and `/ready`, on a port the public network need not reach. Same
 * instance, same hooks and metrics; call after the server is ready (after `listen`).
 */
export async function listenAdmin(app: FastifyInstance, where: { port: number; host: string }): Promise<AdminListener> {
  const server = http.createServer((request, response) => {
    adminRequests.add(request);
    app.routing(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(where.port, where.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : where.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

/** While draining, every response closes its connection: the client opens a fresh one (to a replica that stays) next time. */
function installDraining(app: FastifyInstance, draining: () => boolean): void {
  app.addHook('onSend', (request, reply, payload, done) => {
    if (draining() && request.raw.httpVersionMajor === 1) reply.header('connection', 'close');
    done(null, payload);
  });
}

/**
 * Sockets on which the client sent bytes that are not HTTP after a request still being answered
 * (e.g. a GET whose body went without Content-Length: by HTTP's framing, the body is the next
 * request, and not a valid one): that request gets its answer, with `Connection: close`.
 */
const condemned = new WeakSet<Socket>();
/** How long a condemned connection may stay open for the answer in flight. */
const CONDEMNED_GRACE_MS = 30_000;

/**
 * Replaces Fastify's default, which writes a plain-JSON 400 without `Connection: close` and then
 * destroys the socket at once: a keep-alive client took that connection as reusable and lost its
 * next request to ECONNRESET, and when a request was still in flight the 400 was read as its
 * answer. Like Node's own handler, nothing is written over a response in flight; that response
 * closes the connection instead. Otherwise a 400 (408, 431) problem+json says `Connection: close`
 * and the socket is ended, not reset.
 */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (inFlight) {
    condemned.add(socket);
    if (inFlight.headersSent) inFlight.once('finish', () => socket.end());
    setTimeout(() => socket.destroy(), CONDEMNED_GRACE_MS).unref();
    return;
  }
  const [status, code, title, detail] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request_timeout', 'Request timeout', 'the request did not arrive in time']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers_too_large', 'Request headers too large', 'the request headers are larger than the server accepts']
        : [400, PlatformErrors.invalidInput.code, PlatformErrors.invalidInput.title, 'the request is not valid HTTP/1.1'];
  const body = JSON.stringify(problemOf(new ModuleError({ code, status, title }, detail)));
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  setTimeout(() => socket.destroy(), 1_000).unref();
}

/**
 * A response that closes its connection (Fastify answers a body over the limit, or one it could
 * not parse, with `Connection: close`; so does every response while draining) waits until the
 * client has sent the rest of the body, which is read and thrown away, up to `BODY_DISCARD_LIMIT`.
 * Closing a socket with unread bytes in its receive buffer makes the kernel send a reset, not a
 * clean end: a client still writing its body (Node's fetch does not wait for `100 Continue`) then
 * gets EPIPE or ECONNRESET and never reads the 413 that was sent. Responses that keep the
 * connection need nothing: Node reads and drops the unread rest of the body itself.
 */
function installBodyDiscard(app: FastifyInstance): void {
  app.addHook('onSend', (request, reply, payload, done) => {
    const raw = request.raw;
    if (condemned.has(raw.socket)) reply.header('connection', 'close');
    const closes = String(reply.getHeader('connection') ?? '').toLowerCase() === 'close';
    if (!closes || raw.complete || raw.destroyed) return done(null, payload);
    discardBody(raw).then(() => done(null, payload), done);
  });
}

/** Reads and drops what is left of a request body; resolves at its end, or at the bound (in bytes or time). */
function discardBody(raw: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    let discarded = 0;
    const finish = () => {
      clearTimeout(timer);
      raw.off('data', onData).off('end', finish).off('close', finish).off('error', finish);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > BODY_DISCARD_LIMIT.bytes) finish();
    };
    const timer = setTimeout(finish, BODY_DISCARD_LIMIT.ms);
    raw.on('data', onData).on('end', finish).on('close', finish).on('error', finish);
    raw.resume();
  });
}

/**
 * The request id on every response, and a count and duration per route. Plain callback hooks,
 * not async ones, and the metric children kept per route: each request pays neither a promise
 * per hook nor a label lookup per metric.
 */
function installRequestTelemetry(app: FastifyInstance, telemetry: Telemetry): void {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  const series = new Map<string, { requests: { inc(): void }; duration: { observe(seconds: number): void } }>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const key = `${request.method} ${route} ${reply.statusCode}`;
    let metrics = series.get(key);
    if (!metrics) {
      metrics = {
        requests: telemetry.httpRequests.labels({ method: request.method, route, status: reply.statusCode }),
        duration: telemetry.httpDuration.labels({ method: request.method, route }),
      };
      series.set(key, metrics);
    }
    metrics.requests.inc();
    metrics.duration.observe(reply.elapsedTime / 1000);
    done();
  });
}
