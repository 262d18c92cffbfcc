/** Nearest-rank percentiles: the one definition used by the stats API, the simulator and the bench. */

/** The nearest-rank p-th percentile (p in 0..100) of values already sorted ascending; `empty` when there are none. */
export function percentileOfSorted(sorted: readonly number[], p: number, empty = Number.NaN): number {
  if (sorted.length === 0) return empty;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? empty;
}

/** The nearest-rank p-th percentile of the finite values among `samples` (any order); `empty` when none. */
export function percentile(samples: readonly number[], p: number, empty = Number.NaN): number {
  const sorted = samples.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return percentileOfSorted(sorted, p, empty);
}
