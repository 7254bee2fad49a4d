import { isModuleError, type MethodTable } from '@shop/contract-kit';
import type { RolloutWatch } from '../control/rollout-watch.ts';
import type { Telemetry } from '@shop/platform';
import { bindMethod, type Method } from './bind-method.ts';
import type { RemotePercent } from './remote-percent.ts';
import { bucketOf, stickyKeyOf } from './sticky-key.ts';

export interface SplitOptions<Api> {
  /** The module's name, as metrics label it. */
  readonly module: string;
  readonly local: Api;
  readonly remote: Api;
  /** The module contract's table: every method in it is routed (reads and writes alike). */
  readonly methods: MethodTable<Api>;
  readonly telemetry: Telemetry;
  /** Read on every call, so a change takes effect at once. */
  readonly percent: RemotePercent;
  /** Told each call's side, latency and failure while a rollout of the module runs. */
  readonly watch?: RolloutWatch;
}

/**
 * Gradual switch: each call goes to exactly one side, `remote` when the bucket of its sticky
 * key (see `stickyKeyOf`) is below the current percentage, `local` otherwise. Sticky, so one
 * order's calls all land on one side and never see two copies' timing or caches interleaved;
 * monotonic, so raising the percentage only moves buckets from local to remote, never back.
 * 0 is all local, 100 all remote. Writes are split too: unlike a shadow, only one side runs.
 */
export function splitApi<Api extends object>(options: SplitOptions<Api>): Api {
  const { module, telemetry, percent, watch } = options;
  const wrapped: Record<string, Method> = {};
  for (const method of Object.keys(options.methods)) {
    const local = bindMethod(options.local, method, 'local');
    const remote = bindMethod(options.remote, method, 'remote');
    const onLocal = telemetry.callsBySide.labels(module, method, 'local');
    const onRemote = telemetry.callsBySide.labels(module, method, 'remote');
    wrapped[method] = (...args: unknown[]) => {
      const share = percent.get();
      // The ends need no hash: 0 and 100 are "switched off" and "switched over" exactly.
      const toRemote = share >= 100 || (share > 0 && bucketOf(stickyKeyOf(args)) < share);
      (toRemote ? onRemote : onLocal).inc();
      const answer = toRemote ? remote(...args) : local(...args);
      if (watch?.active) observeCall(watch, toRemote, answer);
      return answer;
    };
  }
  return wrapped as Api;
}

/** Reports how the call went, beside it: the caller gets the very same promise. */
function observeCall(watch: RolloutWatch, toRemote: boolean, answer: unknown): void {
  const started = performance.now();
  const done = (failed: boolean) => {
    const ms = performance.now() - started;
    if (toRemote) watch.remote(ms, failed);
    else watch.local(ms);
  };
  // A module's own error answer (not found, a conflict) is the copy working; a failed trip or a 5xx is not.
  Promise.resolve(answer).then(
    () => done(false),
    (error: unknown) => done(!isModuleError(error) || error.status >= 500),
  );
}
