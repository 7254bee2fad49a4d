import { isModuleError } from '@shop/contract-kit';
import { runAs } from './remote/calling-module.ts';
import type { Telemetry } from './telemetry/metrics.ts';
import { wrapMethods, type CallVia } from './telemetry/module-traffic.ts';
import { isTracing, traceModuleCall } from './telemetry/tracing.ts';

/** What one module call does at the boundary, besides the call: each part optional. */
export interface CallSite {
  /** Counted as (caller → callee, method) in the traffic evidence; `caller` a function where it is known per call (`/internal`). */
  readonly count?: { readonly caller: string | (() => string); readonly callee: string; readonly via: CallVia };
  /** Signed, with every call nested in it, as this module's (or `edge`'s): what an outgoing internal call carries. */
  readonly signAs?: string;
  /** The callee runs here, as this module: counted by outcome, timed, its CPU charged to it, traced (side `local`). */
  readonly local?: string;
}

/**
 * `api` with everything a module call does at the boundary composed into one wrapper per method:
 * the composition root builds one per (caller, callee) hand-over, so a call crosses one closure
 * instead of one per concern. Built once, at wiring time: the hot path does no Proxy, no label
 * lookup, no allocation beyond the call itself.
 */
export function boundaryApi<Api extends object>(api: Api, site: CallSite, telemetry: Telemetry): Api {
  const { count, signAs, local } = site;
  const traffic = telemetry.traffic;
  return wrapMethods(api, (method, target) => {
    const call = local ? localCall(local, method, target, telemetry) : target;
    const signed = signAs ? (...args: unknown[]) => runAs(signAs, () => call(...args)) : call;
    if (!count) return signed;
    const { caller, callee, via } = count;
    return typeof caller === 'string'
      ? (...args) => {
          traffic.call(caller, callee, method, via);
          return signed(...args);
        }
      : (...args) => {
          traffic.call(caller(), callee, method, via);
          return signed(...args);
        };
  });
}

/** A module's own interface, instrumented: what every call of it in this process records. */
export function instrumentApi<Api extends object>(module: string, api: Api, telemetry: Telemetry): Api {
  return boundaryApi(api, { local: module }, telemetry);
}

/**
 * Counts calls by outcome, times them, and charges the CPU they use to the module (the extraction
 * report's evidence, telemetry/module-traffic.ts). Traced, each call is a span (side `local`).
 */
function localCall(module: string, method: string, target: (...args: unknown[]) => Promise<unknown>, telemetry: Telemetry) {
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
