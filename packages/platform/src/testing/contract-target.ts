import { expect } from 'vitest';
import { isModuleError, type ErrorSpec, type ModuleError } from '@shop/contract-kit';
import { PlatformErrors } from '../errors.ts';

/** The platform's own error codes (`invalid_input`...), which cross processes like a module's. */
export { PlatformErrors };

/**
 * One deployment's module interfaces, as a contract suite sees them: all local (one process),
 * or all HTTP clients of a server process hosting the modules. A suite seeds its data through
 * the other modules' interfaces of the same deployment (orders needs inventory's products,
 * payments needs an order), so it gets them all. Each suite names the interfaces it uses:
 * `ContractTarget<{ orders: OrdersApi; inventory: InventoryApi }>`.
 */
export interface ContractTarget<Apis extends object = Record<string, unknown>> {
  readonly apis: Apis;
  /**
   * True when `apis` are HTTP clients of another process: then a method the contract's access
   * table opens to no caller (e.g. `confirmOrder`) answers `forbidden`, and a suite reaches the
   * state it needs the way the system does (paying confirms an order).
   */
  readonly remote?: boolean;
}

export interface ExpectedError {
  /** Matched against the error's `detail`. */
  readonly detail?: RegExp;
  /**
   * The error's extensions, compared exactly (`{}` unless given): a member the other side
   * adds or drops is a difference a caller could see.
   */
  readonly extensions?: Record<string, unknown>;
}

/**
 * Awaits `call`, which must fail with a `ModuleError` of exactly `spec` (code, status, title),
 * with a matching detail and exactly these extensions. Returns the error for further checks.
 * A remote client must rethrow what the local implementation throws: never a generic Error,
 * never `internal`.
 */
export async function expectModuleError(call: Promise<unknown> | (() => Promise<unknown>), spec: ErrorSpec, expected: ExpectedError = {}): Promise<ModuleError> {
  let outcome: { kind: 'value'; value: unknown } | { kind: 'error'; error: unknown };
  try {
    outcome = { kind: 'value', value: await (typeof call === 'function' ? call() : call) };
  } catch (error) {
    outcome = { kind: 'error', error };
  }
  if (outcome.kind === 'value') {
    throw new Error(`expected a ${spec.code} ModuleError, but the call succeeded with ${JSON.stringify(outcome.value)}`);
  }
  const { error } = outcome;
  if (!isModuleError(error)) {
    throw new Error(`expected a ${spec.code} ModuleError, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, { cause: error });
  }
  expect({ code: error.code, status: error.status, title: error.title }, `the ModuleError thrown (detail: ${error.detail})`).toEqual({
    code: spec.code,
    status: spec.status,
    title: spec.title,
  });
  if (expected.detail) expect(error.detail).toMatch(expected.detail);
  expect({ ...error.extensions }, `extensions of ${spec.code}`).toEqual(expected.extensions ?? {});
  return error;
}

/** An RFC 3339 timestamp, as every `*_at` member of every DTO is (never a Date object). */
export const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
