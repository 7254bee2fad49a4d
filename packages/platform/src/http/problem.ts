import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ModuleError, isModuleError, type ErrorSpec } from '@shop/contract-kit';
import { PlatformErrors } from '../errors.ts';
import { describeValidation } from './validation.ts';

/** An RFC 9457 problem document, plus our stable `code`. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  [extension: string]: unknown;
}

export const PROBLEM_TYPE_BASE = 'https://shop.dev/problems/';

export function problemOf(error: ModuleError, instance?: string): Problem {
  return {
    type: PROBLEM_TYPE_BASE + error.code,
    title: error.title,
    status: error.status,
    detail: error.detail,
    code: error.code,
    ...(instance ? { instance } : {}),
    ...error.extensions,
  };
}

export function sendProblem(reply: FastifyReply, error: ModuleError): FastifyReply {
  return reply
    .code(error.status)
    .type('application/problem+json')
    .send(problemOf(error, reply.request.url.split('?')[0]));
}

/** Every error leaves as problem+json with a stable code; only our own bugs are 500s. */
export function installProblemHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const known = toModuleError(error);
    if (known.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.debug({ code: known.code, detail: known.detail }, 'request rejected');
    return sendProblem(reply, known);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, new ModuleError(PlatformErrors.notFound, `no route for ${request.method} ${request.url.split('?')[0]}`)),
  );
}

function toModuleError(error: FastifyError): ModuleError {
  if (isModuleError(error)) return error;
  if (error.validation) {
    const errors = describeValidation(error.validation as never, error.validationContext ?? 'body');
    const first = errors[0] ?? { field: 'body', message: 'is invalid' };
    return new ModuleError(PlatformErrors.invalidInput, `${first.field} ${first.message}`, { errors });
  }
  const byFastifyCode: Record<string, [ErrorSpec, string]> = {
    FST_ERR_CTP_INVALID_JSON_BODY: [PlatformErrors.invalidInput, 'body is not valid JSON'],
    FST_ERR_CTP_EMPTY_JSON_BODY: [PlatformErrors.invalidInput, 'body is empty but Content-Type is application/json'],
    FST_ERR_CTP_INVALID_MEDIA_TYPE: [PlatformErrors.unsupportedMediaType, 'send the body as application/json'],
    FST_ERR_CTP_BODY_TOO_LARGE: [PlatformErrors.payloadTooLarge, 'the body is larger than the server accepts'],
    FST_ERR_CTP_INVALID_CONTENT_LENGTH: [PlatformErrors.invalidInput, 'Content-Length does not match the body'],
  };
  const mapped = error.code ? byFastifyCode[error.code] : undefined;
  if (mapped) return new ModuleError(mapped[0], mapped[1]);
  if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
    return new ModuleError(PlatformErrors.invalidInput, 'body is not valid JSON');
  }
  // Data the database refuses (class 22: data exception, e.g. a NUL byte in text) is bad input.
  const pgCode = (error as { code?: unknown }).code;
  if (typeof pgCode === 'string' && /^22[0-9A-Z]{3}$/.test(pgCode)) {
    return new ModuleError(PlatformErrors.invalidInput, `the database refused a value: ${error.message}`);
  }
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return new ModuleError({ code: 'bad_request', status, title: 'Bad request' }, error.message);
  }
  if (pgCode === 'ECONNREFUSED' || pgCode === '57P01' || pgCode === '57P03' || /timeout exceeded when trying to connect/i.test(error.message)) {
    return new ModuleError(PlatformErrors.unavailable, 'the database is not reachable right now; try again shortly');
  }
  return new ModuleError(PlatformErrors.internal, 'an unexpected error occurred; it has been logged');
}
