import type { CallVia, Telemetry } from '@shop/platform';
import { instrumentedMethod, wrapMethods } from '@shop/platform/internals';
import { runAs } from './remote/calling-module.ts';

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
    const call = local ? instrumentedMethod(local, method, target, telemetry) : target;
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
