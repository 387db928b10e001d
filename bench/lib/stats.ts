/** Summary statistics of benchmark samples: median, min, max and p99 (nearest rank). */

export interface Summary {
  median: number
  min: number
  max: number
  p99: number
  n: number
}

export function summarize (samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error('no samples to summarize')
  const sorted = [...samples].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  const p99 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]
  return { median, min: sorted[0], max: sorted[sorted.length - 1], p99, n: sorted.length }
}
