// Summaries of repeated measurements: median and p99 (nearest rank), as reported in bench/results.

export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export const median = (values) => {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

/** { n, median, p99, min, max } of `values`, rounded to `digits`. */
export function summarize(values, digits = 1) {
  const round = (v) => (v === null ? null : Number(v.toFixed(digits)));
  return {
    n: values.length,
    median: round(median(values)),
    p99: round(percentile(values, 99)),
    min: round(values.length ? Math.min(...values) : null),
    max: round(values.length ? Math.max(...values) : null),
  };
}
