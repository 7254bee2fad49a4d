import { ModuleError, isModuleError } from '@shop/contract-kit';
import { PlatformErrors } from '@shop/platform';

/** Members of a problem document that are not extensions. */
const PROBLEM_MEMBERS = new Set(['type', 'title', 'status', 'detail', 'code', 'instance']);

/**
 * Rebuilds the remote side's error from its problem+json: the same code, status, title,
 * detail and extensions the local implementation would have thrown. Returns undefined when
 * the answer is not one of our problems (a proxy's HTML 502, say).
 */
export function moduleErrorFromProblem(status: number, body: unknown): ModuleError | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const problem = body as Record<string, unknown>;
  if (typeof problem.code !== 'string' || typeof problem.title !== 'string') return undefined;
  const extensions = Object.fromEntries(Object.entries(problem).filter(([key]) => !PROBLEM_MEMBERS.has(key)));
  return new ModuleError({ code: problem.code, status, title: problem.title }, typeof problem.detail === 'string' ? problem.detail : problem.title, extensions);
}

/**
 * A failure of the trip, not an answer: nothing came back, or the remote process (or a proxy
 * in front of it) could not serve at all. These count against the circuit breaker and may be
 * retried; a module error (order_not_found, a 409...) is an answer and is never retried.
 */
export class TransportFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransportFailure';
  }
}

export function isTransportFailure(error: unknown): boolean {
  return error instanceof TransportFailure;
}

export function moduleUnavailable(module: string, why: string): ModuleError {
  return new ModuleError(PlatformErrors.moduleUnavailable, `the ${module} module is unavailable: ${why}`, { module });
}

/** Answers that mean "this process can't serve right now", whoever sent them. */
export function isUnavailableAnswer(error: unknown): boolean {
  return isModuleError(error) && (error.code === PlatformErrors.unavailable.code || error.status === 502 || error.status === 504);
}
