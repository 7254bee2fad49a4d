import { isModuleError } from '@shop/contract-kit';
import type { Telemetry } from './telemetry/metrics.ts';
import { wrapMethods } from './telemetry/module-traffic.ts';
import { isTracing, traceModuleCall } from './telemetry/tracing.ts';

type Method = (...args: unknown[]) => Promise<unknown>;

/** A module's own interface, instrumented: what every call of it in this process records. */
export function instrumentApi<Api extends object>(module: string, api: Api, telemetry: Telemetry): Api {
  return wrapMethods(api, (method, target) => instrumentedMethod(module, method, target, telemetry));
}

/**
 * One method of `module`, instrumented: counted by outcome, timed, the CPU it uses charged to the
 * module (the extraction report's evidence, telemetry/module-traffic.ts), traced (side `local`).
 * Built once, at wiring time: the hot path does no Proxy and no label lookup.
 */
export function instrumentedMethod(module: string, method: string, target: Method, telemetry: Telemetry): Method {
  const traffic = telemetry.traffic;
  const ok = telemetry.moduleCalls.labels(module, method, 'ok');
  const duration = telemetry.callDuration.labels(module, method, 'local');
  return async (...args: unknown[]) => {
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
