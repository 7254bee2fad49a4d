/**
 * What every module error declares: a stable machine-readable code, the HTTP status it
 * maps to at the edge, and a human title. Codes are part of the public contract: never
 * rename one, add a new one.
 */
export interface ErrorSpec {
  readonly code: string;
  readonly status: number;
  readonly title: string;
}

/**
 * The one answer of every idempotent creation whose key comes back with a different request
 * (each module's contract lists it under its own errors, the same code everywhere).
 */
export const IdempotencyKeyReused = {
  code: 'idempotency_key_reused',
  status: 422,
  title: 'This idempotency key was used with a different request',
} as const satisfies ErrorSpec;

/**
 * A typed module error. Local implementations throw it; HTTP clients rebuild it from the
 * problem+json answer, so a caller sees the same `code` whether the module runs in its
 * process or in another one.
 */
export class ModuleError extends Error {
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  /** Extra members of the problem document (e.g. the product ids that were missing). */
  readonly extensions: Readonly<Record<string, unknown>>;

  constructor(spec: ErrorSpec, detail: string, extensions: Record<string, unknown> = {}) {
    super(`${spec.code}: ${detail}`);
    this.name = 'ModuleError';
    this.code = spec.code;
    this.status = spec.status;
    this.title = spec.title;
    this.detail = detail;
    this.extensions = extensions;
  }
}

export function isModuleError(error: unknown): error is ModuleError {
  return error instanceof ModuleError;
}
