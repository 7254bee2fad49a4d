import type { MethodTable } from '@shop/contract-kit';
import type { RemoteModule } from './remote-module.ts';

/**
 * A module interface over HTTP, built from the module's contract table: every method the
 * contract declares becomes a remote call that knows whether it is safe to retry.
 */
export function remoteApi<Api extends object>(remote: RemoteModule, methods: MethodTable<Api>): Api {
  const api: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const [method, kind] of Object.entries(methods) as Array<[string, MethodTable<Api>[keyof Api]]>) {
    // Trailing undefined arguments (an omitted option) must not become nulls on the wire.
    api[method] = (...args: unknown[]) => remote.call(method, trimTrailingUndefined(args), kind);
  }
  return api as Api;
}

function trimTrailingUndefined(args: unknown[]): unknown[] {
  let end = args.length;
  while (end > 0 && args[end - 1] === undefined) end -= 1;
  return args.slice(0, end);
}
