/**
 * The metrics registry: counters, gauges and histograms keyed by their label values, and the
 * Prometheus text exposition (format 0.0.4) of all of them. Nothing here runs on a data path:
 * components call `inc`/`observe` once per event (a connection, a dial, a query), and byte
 * counts are read by collectors when Prometheus scrapes.
 */
import type { Counter, Gauge, Histogram, HistogramDefinition, MetricDefinition, MetricLabels, Metrics, MetricsCollector } from '../interface/metrics.ts'
import { InvalidParametersError } from '../util/errors.ts'

/** The exposition's content type (Prometheus text format 0.0.4). */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/** Latency buckets in seconds: 1 ms to 30 s. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
/** Bounds the label combinations of one metric, so a label fed from remote input cannot grow memory without limit. */
const MAX_SERIES_PER_METRIC = 1000

type MetricType = 'counter' | 'gauge' | 'histogram'

/** One metric family: its definition and one value (or histogram state) per label combination. */
abstract class Family<V> {
  readonly name: string
  readonly help: string
  readonly labelNames: readonly string[]
  abstract readonly type: MetricType
  protected readonly series = new Map<string, { labels: MetricLabels, value: V }>()

  constructor (definition: MetricDefinition) {
    if (!METRIC_NAME.test(definition.name)) throw new InvalidParametersError(`metric name '${definition.name}' is not a Prometheus name`)
    for (const label of definition.labelNames ?? []) {
      if (!LABEL_NAME.test(label) || label.startsWith('__') || label === 'le') throw new InvalidParametersError(`label name '${label}' of ${definition.name} is not allowed`)
    }
    this.name = definition.name
    this.help = definition.help
    this.labelNames = definition.labelNames ?? []
  }

  protected entry (labels: MetricLabels | undefined, initial: () => V): { labels: MetricLabels, value: V } | undefined {
    // built by concatenation, not map/join: components call this once per event (a stream's
    // close among them), and the array and its join cost more than the rest of the update
    const names = this.labelNames
    let key = ''
    for (let i = 0; i < names.length; i++) key = i === 0 ? (labels?.[names[0]] ?? '') : key + '\u0000' + (labels?.[names[i]] ?? '')
    let found = this.series.get(key)
    if (found === undefined) {
      if (this.series.size >= MAX_SERIES_PER_METRIC) return undefined
      found = { labels: labels ?? {}, value: initial() }
      this.series.set(key, found)
    }
    return found
  }

  reset (): void { this.series.clear() }

  render (out: string[]): void {
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`)
    for (const { labels, value } of this.series.values()) this.renderSeries(out, labels, value)
  }

  protected abstract renderSeries (out: string[], labels: MetricLabels, value: V): void

  protected labelText (labels: MetricLabels, extra?: string): string {
    const parts = this.labelNames.map(n => `${n}="${escapeLabelValue(labels[n] ?? '')}"`)
    if (extra !== undefined) parts.push(extra)
    return parts.length === 0 ? '' : `{${parts.join(',')}}`
  }
}

class CounterFamily extends Family<{ n: number }> implements Counter {
  readonly type = 'counter'
  inc (labels?: MetricLabels, by = 1): void {
    if (!(by >= 0)) return // a counter never goes down (and NaN is ignored)
    const e = this.entry(labels, () => ({ n: 0 }))
    if (e !== undefined) e.value.n += by
  }

  protected renderSeries (out: string[], labels: MetricLabels, value: { n: number }): void {
    out.push(`${this.name}${this.labelText(labels)} ${formatNumber(value.n)}`)
  }
}

class GaugeFamily extends Family<{ n: number }> implements Gauge {
  readonly type = 'gauge'
  set (value: number, labels?: MetricLabels): void {
    const e = this.entry(labels, () => ({ n: 0 }))
    if (e !== undefined) e.value.n = value
  }

  inc (labels?: MetricLabels, by = 1): void {
    const e = this.entry(labels, () => ({ n: 0 }))
    if (e !== undefined) e.value.n += by
  }

  dec (labels?: MetricLabels, by = 1): void { this.inc(labels, -by) }

  protected renderSeries (out: string[], labels: MetricLabels, value: { n: number }): void {
    out.push(`${this.name}${this.labelText(labels)} ${formatNumber(value.n)}`)
  }
}

interface HistogramState { counts: number[], sum: number, count: number }

class HistogramFamily extends Family<HistogramState> implements Histogram {
  readonly type = 'histogram'
  readonly buckets: readonly number[]

  constructor (definition: HistogramDefinition) {
    super(definition)
    const buckets = definition.buckets ?? LATENCY_BUCKETS_SECONDS
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i] > buckets[i - 1])) throw new InvalidParametersError(`the buckets of ${definition.name} must ascend`)
    }
    this.buckets = buckets
  }

  observe (value: number, labels?: MetricLabels): void {
    if (Number.isNaN(value)) return
    const e = this.entry(labels, () => ({ counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 }))
    if (e === undefined) return
    const state = e.value
    // counts are per bucket here and made cumulative when rendered
    const i = this.buckets.findIndex(b => value <= b)
    if (i >= 0) state.counts[i]++
    state.sum += value
    state.count++
  }

  protected renderSeries (out: string[], labels: MetricLabels, state: HistogramState): void {
    let cumulative = 0
    for (let i = 0; i < this.buckets.length; i++) {
      cumulative += state.counts[i]
      out.push(`${this.name}_bucket${this.labelText(labels, `le="${formatNumber(this.buckets[i])}"`)} ${cumulative}`)
    }
    out.push(`${this.name}_bucket${this.labelText(labels, 'le="+Inf"')} ${state.count}`)
    out.push(`${this.name}_sum${this.labelText(labels)} ${formatNumber(state.sum)}`)
    out.push(`${this.name}_count${this.labelText(labels)} ${state.count}`)
  }
}

export class MetricsRegistry implements Metrics {
  readonly #families = new Map<string, Family<unknown>>()
  readonly #collectors = new Set<MetricsCollector>()

  counter (definition: MetricDefinition): Counter {
    return this.#register(definition, 'counter', () => new CounterFamily(definition)) as CounterFamily
  }

  gauge (definition: MetricDefinition): Gauge {
    return this.#register(definition, 'gauge', () => new GaugeFamily(definition)) as GaugeFamily
  }

  histogram (definition: HistogramDefinition): Histogram {
    return this.#register(definition, 'histogram', () => new HistogramFamily(definition)) as HistogramFamily
  }

  addCollector (collect: MetricsCollector): () => void {
    this.#collectors.add(collect)
    return () => { this.#collectors.delete(collect) }
  }

  expose (): string {
    for (const collect of this.#collectors) {
      try { collect() } catch { /* one broken collector must not take the others' samples away */ }
    }
    const out: string[] = []
    for (const family of this.#families.values()) family.render(out)
    return out.length === 0 ? '' : out.join('\n') + '\n'
  }

  /** Registering a name twice returns the first family (two nodes' components may share a registry). */
  #register (definition: MetricDefinition, type: MetricType, create: () => Family<unknown>): Family<unknown> {
    const existing = this.#families.get(definition.name)
    if (existing !== undefined) {
      if (existing.type !== type) throw new InvalidParametersError(`metric ${definition.name} is already a ${existing.type}`)
      return existing
    }
    const family = create()
    this.#families.set(definition.name, family)
    return family
  }
}

function formatNumber (n: number): string {
  if (n === Infinity) return '+Inf'
  if (n === -Infinity) return '-Inf'
  if (Number.isNaN(n)) return 'NaN'
  return String(n)
}

function escapeHelp (text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

function escapeLabelValue (text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}
