/**
 * The metrics a node reports: counters, gauges and histograms with labels, kept in a registry
 * that renders the Prometheus text exposition. Components hold a `Metrics` (or undefined when
 * metrics are off, so an off node pays one `?.` per event and nothing per byte); values that
 * already live in components (connection lists, table sizes, byte counters) are read by
 * collectors at scrape time instead of being pushed on every change.
 */

/** Label names to values, e.g. `{ transport: 'tcp', direction: 'inbound' }`. */
export type MetricLabels = Readonly<Record<string, string>>

export interface MetricDefinition {
  /** Prometheus name: `libp2p_` prefix, base units (seconds, bytes), `_total` for counters. */
  name: string
  help: string
  /** The label names every sample of the metric carries (in this order). */
  labelNames?: readonly string[]
}

export interface HistogramDefinition extends MetricDefinition {
  /** Upper bounds of the buckets, ascending (`+Inf` is implied). */
  buckets?: readonly number[]
}

export interface Counter {
  inc(labels?: MetricLabels, by?: number): void
}

export interface Gauge {
  set(value: number, labels?: MetricLabels): void
  inc(labels?: MetricLabels, by?: number): void
  dec(labels?: MetricLabels, by?: number): void
  /** Drops every sample (a collector that rebuilds the gauge on each scrape starts here). */
  reset(): void
}

export interface Histogram {
  observe(value: number, labels?: MetricLabels): void
}

/** Called on every scrape before rendering: sets gauges from the state it reads. */
export type MetricsCollector = () => void

export interface Metrics {
  counter(definition: MetricDefinition): Counter
  gauge(definition: MetricDefinition): Gauge
  histogram(definition: HistogramDefinition): Histogram
  /** Registers a scrape-time collector; returns a function that removes it. */
  addCollector(collect: MetricsCollector): () => void
  /** Runs the collectors and renders the Prometheus text exposition format (version 0.0.4). */
  expose(): string
}
