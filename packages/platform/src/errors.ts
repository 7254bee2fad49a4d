import { ModuleError, type ErrorSpec } from '@shop/contract-kit';

/** Error codes the platform itself answers with, whatever the module. */
export const PlatformErrors = {
  invalidInput: { code: 'invalid_input', status: 400, title: 'Invalid input' },
  unauthorized: { code: 'unauthorized', status: 401, title: 'Missing or invalid credentials' },
  forbidden: { code: 'forbidden', status: 403, title: 'Not allowed' },
  notFound: { code: 'not_found', status: 404, title: 'No such resource' },
  methodNotAllowed: { code: 'method_not_allowed', status: 405, title: 'Method not allowed' },
  payloadTooLarge: { code: 'payload_too_large', status: 413, title: 'Request body too large' },
  unsupportedMediaType: { code: 'unsupported_media_type', status: 415, title: 'Unsupported media type' },
  internal: { code: 'internal', status: 500, title: 'Internal error' },
  unavailable: { code: 'service_unavailable', status: 503, title: 'Temporarily unavailable' },
  /** A module this request needs runs in another process that does not answer (or its circuit is open). */
  moduleUnavailable: { code: 'module_unavailable', status: 503, title: 'A module this request needs is unavailable' },
  /** An internal call named a module this process does not host, or a method it does not have. */
  notHosted: { code: 'module_not_hosted', status: 404, title: 'This process does not host that module or method' },
} as const satisfies Record<string, ErrorSpec>;

/** A 400 that names the field at fault, e.g. `invalidInput('body.items[1].product_id', 'duplicate product')`. */
export function invalidInput(field: string, message: string): ModuleError {
  return new ModuleError(PlatformErrors.invalidInput, `${field}: ${message}`, { errors: [{ field, message }] });
}

export function forbidden(detail: string): ModuleError {
  return new ModuleError(PlatformErrors.forbidden, detail);
}

export function unauthorized(detail: string): ModuleError {
  return new ModuleError(PlatformErrors.unauthorized, detail);
}
