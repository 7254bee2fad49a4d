/**
 * Call latencies in fixed buckets (upper bounds in ms, the last one open), so the histograms
 * of every replica add up by position and a p99 can be read off their sum.
 */
export const LATENCY_BOUNDS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, Infinity] as const;

export function emptyHistogram(): number[] {
  return LATENCY_BOUNDS_MS.map(() => 0);
}

export function observe(histogram: number[], ms: number): void {
  const index = LATENCY_BOUNDS_MS.findIndex((bound) => ms <= bound);
  histogram[index] = (histogram[index] ?? 0) + 1;
}

export function addHistograms(into: number[], from: readonly number[]): void {
  for (let i = 0; i < into.length; i += 1) into[i] = (into[i] ?? 0) + (from[i] ?? 0);
}

/** The bucket bound below which `quantile` of the calls fell (the open bucket reads as its lower bound); undefined with no calls. */
export function quantileOf(histogram: readonly number[], quantile: number): number | undefined {
  const total = histogram.reduce((sum, count) => sum + count, 0);
  if (total === 0) return undefined;
  let seen = 0;
  for (let i = 0; i < histogram.length; i += 1) {
    seen += histogram[i] ?? 0;
    if (seen >= quantile * total) return Number.isFinite(LATENCY_BOUNDS_MS[i]) ? LATENCY_BOUNDS_MS[i] : LATENCY_BOUNDS_MS[i - 1];
  }
  return LATENCY_BOUNDS_MS.at(-2);
}
