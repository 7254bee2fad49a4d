import { isModuleError } from '@shop/contract-kit';
import type { Telemetry } from './telemetry/metrics.ts';
import { methodNames } from './telemetry/module-traffic.ts';
import { isTracing, traceModuleCall } from './telemetry/tracing.ts';

/**
 * Wraps every method of a module's API to count calls by outcome, and to charge the CPU they
 * use to the module (the extraction report's evidence, telemetry/module-traffic.ts). Built once,
 * at wiring time: the hot path is one closure and one pre-resolved counter, no Proxy and no
 * label lookup. Traced, each call is a span (side `local`).
 */
export function instrumentApi<Api extends object>(module: string, api: Api, telemetry: Telemetry): Api {
  const wrapped: Record<string, unknown> = {};
  const traffic = telemetry.traffic;
  for (const method of methodNames(api)) {
    const target = (api as Record<string, (...args: unknown[]) => Promise<unknown>>)[method]!.bind(api);
    const ok = telemetry.moduleCalls.labels(module, method, 'ok');
    const duration = telemetry.callDuration.labels(module, method, 'local');
    wrapped[method] = async (...args: unknown[]) => {
      const started = performance.now();
      try {
        const call = () => target(...args);
        const result = await traffic.measure(module, isTracing() ? () => traceModuleCall(module, method, 'local', call) : call);
        ok.inc();
        return result;
      } catch (error) {
        telemetry.moduleCalls.inc({ module, method, outcome: isModuleError(error) ? error.code : 'error' });
        throw error;
      } finally {
        duration.observe((performance.now() - started) / 1000);
      }
    };
  }
  return wrapped as Api;
}
