/** Latency summaries from raw samples (ms, sub-millisecond precision; autocannon's histogram keeps whole ms). */

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  count: number;
}

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  const arr = Array.from(sorted);
  const sum = arr.reduce((a, b) => a + b, 0);
  return {
    p50: percentile(arr, 0.5),
    p90: percentile(arr, 0.9),
    p99: percentile(arr, 0.99),
    max: arr.length ? (arr[arr.length - 1] as number) : Number.NaN,
    mean: arr.length ? sum / arr.length : Number.NaN,
    count: arr.length,
  };
}

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN;
}

export function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
