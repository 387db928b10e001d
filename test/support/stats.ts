/** Summary statistics for test and benchmark reports. */

/**
 * The q-quantile of `values` by nearest rank (q = 0.5 is the median, 0.99 the p99). With no
 * values it is NaN, not 0: a report of "no samples" must not read as a fast result.
 */
export function quantile (values: readonly number[], q: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
}
