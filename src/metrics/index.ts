/** `ts-libp2p/metrics`: the registry and its Prometheus exposition (every runtime). */
export { MetricsRegistry, PROMETHEUS_CONTENT_TYPE, LATENCY_BUCKETS_SECONDS } from './registry.ts'
export type { Counter, Gauge, Histogram, HistogramDefinition, MetricDefinition, MetricLabels, Metrics, MetricsCollector } from '../interface/metrics.ts'
