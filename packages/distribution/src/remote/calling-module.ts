import { AsyncLocalStorage } from 'node:async_hooks';
import { wrapMethods } from '@shop/platform/internals';

const callers = new AsyncLocalStorage<string>();

/**
 * The module (or `EDGE`) on whose behalf the current code calls other modules: what an outgoing
 * internal call is signed as. Set where an interface is handed to its caller, so the innermost
 * hand-over wins: the edge calling payments, which calls orders, signs that call as `payments`.
 */
export function callingModule(): string | undefined {
  return callers.getStore();
}

/** `api` as handed to `caller`: every call, and every call nested in it, runs as `caller`'s. */
export function handedTo<Api extends object>(caller: string, api: Api): Api {
  return wrapMethods(api, (_method, target) => (...args) => callers.run(caller, () => target(...args)));
}

/** Runs `work`, and every call nested in it, as `caller`'s (what `handedTo` does per call). */
export function runAs<T>(caller: string, work: () => T): T {
  return callers.run(caller, work);
}
