export type Method = (...args: unknown[]) => unknown;

/**
 * `api[method]` bound to `api`, checked at wiring time: a contract table naming a method an
 * implementation lacks fails at start, not on the first call that needs it.
 */
export function bindMethod(api: object, method: string, side: string): Method {
  const fn = (api as Record<string, unknown>)[method];
  if (typeof fn !== 'function') throw new TypeError(`the ${side} implementation has no method ${method}`);
  return (fn as Method).bind(api);
}
