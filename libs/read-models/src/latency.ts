/** Upper bounds (ms) of the latency histogram buckets; a value above the last lands in OVERFLOW. */
export const LATENCY_BUCKETS_MS = [
  1_000, 5_000, 15_000, 60_000, 300_000, 900_000, 3_600_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
  172_800_000, 604_800_000, 2_592_000_000,
] as const;
export const OVERFLOW = -1;

export type LatencyMetric = 'click_to_conversion' | 'postback_delay';

/** The bucket a latency falls in: the first upper bound it does not exceed. Negative clocks count as 0. */
export function latencyBucket(ms: number): number {
  const v = Math.max(0, ms);
  for (const le of LATENCY_BUCKETS_MS) if (v <= le) return le;
  return OVERFLOW;
}

export interface Histogram {
  /** Count per bucket upper bound (OVERFLOW for the open-ended last bucket). */
  counts: Map<number, number>;
}

/**
 * The q-quantile (0..1) estimated from a histogram: linear interpolation inside the bucket
 * that holds it, so the error is at most that bucket's width. Values past the last bound
 * report the last bound. Null for an empty histogram.
 */
export function quantileOf(h: Histogram, q: number): number | null {
  const total = [...h.counts.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  let lower = 0;
  for (const le of LATENCY_BUCKETS_MS) {
    const n = h.counts.get(le) ?? 0;
    if (n > 0 && seen + n >= rank) return Math.round(lower + ((rank - seen) / n) * (le - lower));
    seen += n;
    lower = le;
  }
  return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1]!;
}
