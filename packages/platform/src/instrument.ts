import { isModuleError } from '@shop/contract-kit';
import type { Telemetry } from './telemetry/metrics.ts';

/**
 * Wraps every method of a module's API to count calls by outcome. Built once, at wiring
 * time: the hot path is one closure and one pre-resolved counter, no Proxy and no label lookup.
 */
export function instrumentApi<Api extends object>(module: string, api: Api, telemetry: Telemetry): Api {
  const wrapped: Record<string, unknown> = {};
  for (const method of methodNames(api)) {
    const target = (api as Record<string, (...args: unknown[]) => Promise<unknown>>)[method]!.bind(api);
    const ok = telemetry.moduleCalls.labels(module, method, 'ok');
    wrapped[method] = async (...args: unknown[]) => {
      try {
        const result = await target(...args);
        ok.inc();
        return result;
      } catch (error) {
        telemetry.moduleCalls.inc({ module, method, outcome: isModuleError(error) ? error.code : 'error' });
        throw error;
      }
    };
  }
  return wrapped as Api;
}

function methodNames(api: object): string[] {
  const names = new Set<string>();
  for (let proto = api; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name !== 'constructor' && typeof (api as Record<string, unknown>)[name] === 'function') names.add(name);
    }
  }
  return [...names];
}
