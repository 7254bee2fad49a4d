import { addHistograms, emptyHistogram, observe } from './latency-histogram.ts';
import type { StepStats } from './rollout-rules.ts';

/**
 * What this replica sees of one module's calls while a rollout of it runs: the traffic split and
 * the shadow report here, and the control plane drains it into the database at each tick. When
 * no rollout runs, recording is a single branch (`active` is undefined).
 */
export class RolloutWatch {
  /** The rollout and step being observed, set by the control plane. */
  active: { readonly rollout_id: string; readonly step_index: number } | undefined;
  #stats = fresh();

  remote(ms: number, failed: boolean): void {
    if (!this.active) return;
    this.#stats.remote_calls += 1;
    if (failed) this.#stats.remote_errors += 1;
    observe(this.#stats.remote_latency, ms);
  }

  local(ms: number): void {
    if (this.active) observe(this.#stats.local_latency, ms);
  }

  shadow(mismatch: boolean): void {
    if (!this.active) return;
    this.#stats.shadow_calls += 1;
    if (mismatch) this.#stats.shadow_mismatches += 1;
  }

  /** What was observed since the last drain (for the step `active` names), and a fresh start. */
  drain(): MutableStats {
    const stats = this.#stats;
    this.#stats = fresh();
    return stats;
  }

  /** Puts drained counts back (their write failed). */
  restore(stats: StepStats): void {
    this.#stats.remote_calls += stats.remote_calls;
    this.#stats.remote_errors += stats.remote_errors;
    this.#stats.shadow_calls += stats.shadow_calls;
    this.#stats.shadow_mismatches += stats.shadow_mismatches;
    addHistograms(this.#stats.local_latency, stats.local_latency);
    addHistograms(this.#stats.remote_latency, stats.remote_latency);
  }
}

type MutableStats = { -readonly [K in keyof StepStats]: StepStats[K] extends readonly number[] ? number[] : StepStats[K] };

function fresh(): MutableStats {
  return { remote_calls: 0, remote_errors: 0, shadow_calls: 0, shadow_mismatches: 0, local_latency: emptyHistogram(), remote_latency: emptyHistogram() };
}

export function isEmpty(stats: StepStats): boolean {
  return stats.remote_calls === 0 && stats.shadow_calls === 0 && stats.local_latency.every((n) => n === 0);
}
