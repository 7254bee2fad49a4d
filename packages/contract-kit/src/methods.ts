import type { TSchema } from 'typebox';

/**
 * How a method of a module interface behaves. It decides what the remote client may retry,
 * what a dark launch may send to a copy, and nothing else needs to guess:
 * - `read`: no side effect; safe to retry and to shadow.
 * - `idempotent-write`: changes state, but a repeat with the same arguments has no second
 *   effect (an idempotency key, or a transition that is a no-op the second time); safe to retry,
 *   never shadowed.
 * - `write`: changes state; never retried blindly, never shadowed.
 */
export type MethodKind = 'read' | 'idempotent-write' | 'write';

/** Every method of a module interface, with its kind. Part of the module's contract. */
export type MethodTable<Api> = { readonly [K in keyof Api]-?: MethodKind };

/**
 * The caller name of a process's public HTTP edge: the routes of a module this process serves
 * but another hosts, forwarded on a user's behalf. The routes have already authorised the user
 * (ownership, admin), so the edge may call what those routes call, and nothing else.
 */
export const EDGE = 'edge';

/**
 * Who may call one method from another process, and what its arguments must look like.
 * `callers` names modules (or `EDGE`); nobody else may call it (an empty list: no process may;
 * the module still calls it itself). `args` has one schema per parameter, in order; a parameter
 * the method may be called without is `Type.Optional(schema)`. An internal call is checked
 * against both before the method runs: a 403 `forbidden`, or a 400 `invalid_input` naming the
 * argument (`args[0].items`).
 */
export interface MethodAccess<Args extends readonly unknown[] = readonly unknown[]> {
  readonly callers: readonly string[];
  readonly args: { readonly [I in keyof Args]-?: TSchema };
}

/** Every method of a module interface, with who may call it remotely and its argument schemas. Part of the contract. */
export type AccessTable<Api> = {
  readonly [K in keyof Api]-?: Api[K] extends (...args: infer Args) => unknown ? MethodAccess<Args> : never;
};
