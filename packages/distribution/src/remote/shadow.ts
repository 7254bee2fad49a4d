import type { MethodTable } from '@shop/contract-kit';
import type { RolloutWatch } from '../control/rollout-watch.ts';
import type { Logger } from '@shop/platform';
import type { Telemetry } from '@shop/platform';
import { isTracing, traceModuleCall } from '@shop/platform/internals';
import { bindMethod, type Method } from './bind-method.ts';
import { InFlightLimit } from './in-flight-limit.ts';
import { sortKeysDeep } from './normalise.ts';
import { PERSONAL_FIELDS, redact } from './redact.ts';
import { describeOutcome, describeValue, outcomeAsData, verdictOf, type Outcome, type Verdict } from './shadow-verdict.ts';

/** A mismatch as an operator may read it: both answers (and the arguments) with personal data redacted. */
export interface ShadowMismatch {
  readonly module: string;
  readonly method: string;
  readonly args: unknown;
  readonly local: unknown;
  readonly shadow: unknown;
}

export interface ShadowOptions<Api> {
  /** The module's name, as metrics and logs label it (e.g. `orders`). */
  readonly module: string;
  /** Serves every call: its answer or error is what the caller gets. */
  readonly local: Api;
  /** The copy on trial (usually the HTTP client to the module's new process). */
  readonly shadow: Api;
  /** The module contract's table: only `read` methods are shadowed. */
  readonly methods: MethodTable<Api>;
  readonly telemetry: Telemetry;
  readonly logger: Logger;
  /** How long a shadow call may take before it counts as `shadow_error`; default 2 s. */
  readonly timeoutMs?: number;
  /** Shadow calls running at once at most; beyond that they are dropped and counted. Default 100. */
  readonly maxInFlight?: number;
  /** Applied to both answers before comparing; default: keys sorted deeply, as after JSON. */
  readonly normalise?: (value: unknown) => unknown;
  /** Read on every call: while false, nothing is sent to the copy (the control plane's switch). */
  readonly enabled?: () => boolean;
  /** Told each verdict while a rollout of the module runs. */
  readonly watch?: RolloutWatch;
  /** Member names the module's contract marks personal, beyond `PERSONAL_FIELDS`: redacted from logs and records. */
  readonly personal?: readonly string[];
  /** Told each mismatch, redacted (e.g. to keep the latest for `GET /api/admin/shadow/mismatches`). */
  readonly onMismatch?: (mismatch: ShadowMismatch) => void;
}

/** Each answer in a mismatch log line is cut to this many characters. */
const MAX_LOGGED_CHARS = 4_096;

/**
 * Dark launch: `local` keeps serving every call, and each `read` is also sent to `shadow` in
 * the background, its answer compared with local's and the verdict counted
 * (`module_shadow_calls_total`, `module_shadow_mismatches_total`); a mismatch is logged with
 * both answers. The caller never waits for, nor sees, the shadow: a slow, failing or
 * overloaded copy costs it nothing.
 *
 * Writes (`write` and `idempotent-write`) are never shadowed. A shadowed write would perform
 * the effect twice: a second charge, a second order, a second e-mail. Even an idempotent one
 * races the real call on the same key, and a copy that shares the database would see the
 * write twice (the second either a duplicate or a spurious conflict), so its answer proves
 * nothing and its side effect is real. Writes are checked by the contract suite instead, and
 * by the gradual switch, where each call goes to exactly one side.
 */
export function shadowApi<Api extends object>(options: ShadowOptions<Api>): Api {
  const { module, telemetry, logger, enabled, watch, onMismatch } = options;
  const personal = new Set([...PERSONAL_FIELDS, ...(options.personal ?? [])]);
  const normalise = options.normalise ?? sortKeysDeep;
  const limit = new InFlightLimit(options.maxInFlight ?? 100, options.timeoutMs ?? 2_000);
  const wrapped: Record<string, Method> = {};

  for (const [method, kind] of Object.entries(options.methods) as Array<[string, string]>) {
    const local = bindMethod(options.local, method, 'local');
    if (kind !== 'read') {
      // The very local method: nothing added on the path of a write.
      wrapped[method] = local;
      continue;
    }
    const shadow = bindMethod(options.shadow, method, 'shadow');
    // Resolved once at wiring time, as in instrumentApi: the hot path does no label lookup.
    const counted: Record<Verdict | 'dropped', { inc(): void }> = {
      match: telemetry.shadowCalls.labels(module, method, 'match'),
      mismatch: telemetry.shadowCalls.labels(module, method, 'mismatch'),
      shadow_error: telemetry.shadowCalls.labels(module, method, 'shadow_error'),
      dropped: telemetry.shadowCalls.labels(module, method, 'dropped'),
    };
    const mismatches = telemetry.shadowMismatches.labels(module, method);
    const shadowDuration = telemetry.callDuration.labels(module, method, 'shadow');

    const record = (localOutcome: Outcome, shadowOutcome: Outcome, args: unknown[]) => {
      let verdict: Verdict;
      try {
        verdict = verdictOf(localOutcome, shadowOutcome, normalise);
      } catch (error) {
        // A normaliser that throws is our bug, not the copy's: no verdict, but say so.
        logger.warn({ err: error, module, method }, 'shadow answers could not be compared');
        verdict = 'shadow_error';
      }
      counted[verdict].inc();
      if (verdict !== 'shadow_error') watch?.shadow(verdict === 'mismatch');
      if (verdict === 'mismatch') {
        mismatches.inc();
        // Both answers may carry a customer's data (an e-mail address, a push endpoint): never as they are.
        const mismatch: ShadowMismatch = {
          module,
          method,
          args: redact(args, personal),
          local: redact(outcomeAsData(localOutcome), personal),
          shadow: redact(outcomeAsData(shadowOutcome), personal),
        };
        logger.warn(
          {
            module,
            method,
            args: describeValue(mismatch.args, MAX_LOGGED_CHARS),
            local: describeValue(mismatch.local, MAX_LOGGED_CHARS),
            shadow: describeValue(mismatch.shadow, MAX_LOGGED_CHARS),
          },
          'shadow answer differs from local',
        );
        onMismatch?.(mismatch);
      } else if (verdict === 'shadow_error') {
        logger.debug({ module, method, shadow: describeOutcome(shadowOutcome, 256) }, 'shadow call gave no verdict');
      }
    };

    wrapped[method] = (...args: unknown[]) => {
      // Local first, and its result handed back untouched (same promise, same error).
      const answer = local(...args);
      if (enabled && !enabled()) return answer;
      const started = performance.now();
      const call = () => shadow(...args) as Promise<unknown>;
      const timed = () => (isTracing() ? traceModuleCall(module, method, 'shadow', call) : call()).finally(() => shadowDuration.observe((performance.now() - started) / 1000));
      const shadowOutcome = limit.tryRun(timed);
      if (shadowOutcome === undefined) {
        counted.dropped.inc();
        return answer;
      }
      // Both started together, so both read the same moment's data; never awaited here.
      void Promise.all([settle(answer), shadowOutcome])
        .then(([localOutcome, shadowSettled]) => record(localOutcome, shadowSettled, args))
        .catch((error: unknown) => logger.error({ err: error, module, method }, 'shadow comparison failed'));
      return answer;
    };
  }
  return wrapped as Api;
}

/** How the caller's own call ended, observed without changing what the caller gets. */
function settle(answer: unknown): Promise<Outcome> {
  return Promise.resolve(answer).then(
    (value): Outcome => ({ kind: 'answer', value }),
    (error: unknown): Outcome => ({ kind: 'error', error }),
  );
}
