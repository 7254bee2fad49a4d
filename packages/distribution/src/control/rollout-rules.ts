import { quantileOf } from './latency-histogram.ts';

/** What a rollout watches; a step is judged against these as soon as it has seen enough calls. */
export interface RolloutLimits {
  /** Share of the calls sent to the remote copy that failed (unreachable, 5xx; not a module's own error answer). */
  readonly max_error_rate: number;
  /** Share of shadowed reads whose answers differed (only watched where a shadow is configured). */
  readonly max_mismatch_rate: number;
  /** How much slower the remote copy's p99 may be than the local module's, in ms. */
  readonly max_p99_increase_ms: number;
  /** Calls a step must see before a rate or a latency is judged, and before it may advance. */
  readonly min_calls: number;
}

export const DEFAULT_LIMITS: RolloutLimits = { max_error_rate: 0.01, max_mismatch_rate: 0, max_p99_increase_ms: 250, min_calls: 20 };

/** What every replica observed, summed: the current step's remote side, and the local side over the whole rollout (the baseline). */
export interface StepStats {
  readonly remote_calls: number;
  readonly remote_errors: number;
  readonly shadow_calls: number;
  readonly shadow_mismatches: number;
  readonly local_latency: readonly number[];
  readonly remote_latency: readonly number[];
}

export interface RolloutPosition {
  readonly steps: readonly number[];
  readonly step_index: number;
  readonly hold_ms: number;
  readonly limits: RolloutLimits;
  readonly step_started_at: Date;
}

export type RolloutDecision =
  | { readonly kind: 'hold'; readonly waiting_for: string }
  | { readonly kind: 'advance'; readonly step_index: number }
  | { readonly kind: 'complete' }
  | { readonly kind: 'roll_back'; readonly reason: string };

/**
 * The guard, step by step: roll back the moment a limit is breached; advance only once the step
 * was held for its time *and* saw enough calls to judge (a quiet step waits rather than advances
 * blind). A limit of 0 is breached by the first bad call, whatever the count.
 */
export function judge(position: RolloutPosition, stats: StepStats, now: Date): RolloutDecision {
  const { limits } = position;
  const breach = breached(stats, limits);
  if (breach) return { kind: 'roll_back', reason: breach };
  const heldMs = now.getTime() - position.step_started_at.getTime();
  if (heldMs < position.hold_ms) return { kind: 'hold', waiting_for: `${Math.ceil((position.hold_ms - heldMs) / 1000)} s more of this step` };
  if (stats.remote_calls < limits.min_calls) return { kind: 'hold', waiting_for: `${limits.min_calls - stats.remote_calls} more calls to the remote copy` };
  const next = position.step_index + 1;
  return next < position.steps.length ? { kind: 'advance', step_index: next } : { kind: 'complete' };
}

function breached(stats: StepStats, limits: RolloutLimits): string | undefined {
  const rate = (bad: number, all: number) => (all === 0 ? 0 : bad / all);
  const over = (bad: number, all: number, max: number) => (max === 0 ? bad > 0 : all >= limits.min_calls && rate(bad, all) > max);
  if (over(stats.remote_errors, stats.remote_calls, limits.max_error_rate)) {
    return `remote error rate ${percent(rate(stats.remote_errors, stats.remote_calls))} (${stats.remote_errors} of ${stats.remote_calls} calls) is above the limit of ${percent(limits.max_error_rate)}`;
  }
  if (over(stats.shadow_mismatches, stats.shadow_calls, limits.max_mismatch_rate)) {
    return `shadow mismatch rate ${percent(rate(stats.shadow_mismatches, stats.shadow_calls))} (${stats.shadow_mismatches} of ${stats.shadow_calls} reads) is above the limit of ${percent(limits.max_mismatch_rate)}`;
  }
  const count = (histogram: readonly number[]) => histogram.reduce((sum, n) => sum + n, 0);
  if (count(stats.remote_latency) >= limits.min_calls && count(stats.local_latency) >= limits.min_calls) {
    const remote = quantileOf(stats.remote_latency, 0.99)!;
    const local = quantileOf(stats.local_latency, 0.99)!;
    if (remote - local > limits.max_p99_increase_ms) {
      return `remote p99 latency ≤${remote} ms is more than ${limits.max_p99_increase_ms} ms above the local p99 (≤${local} ms)`;
    }
  }
  return undefined;
}

function percent(rate: number): string {
  return `${Math.round(rate * 10_000) / 100}%`;
}
