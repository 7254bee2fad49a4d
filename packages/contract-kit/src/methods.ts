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
