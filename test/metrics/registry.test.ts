/** The registry's Prometheus text exposition: names, labels, escaping, histograms, bounds. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { MetricsRegistry } from '../../src/metrics/registry.ts'
import { promtoolCheckMetrics, prometheusSkip } from '../support/prometheus.ts'

describe('MetricsRegistry', () => {
  it('renders counters and gauges with HELP, TYPE and labels in declaration order', () => {
    const registry = new MetricsRegistry()
    const dials = registry.counter({ name: 'libp2p_dials_total', help: 'Dials', labelNames: ['outcome', 'transport'] })
    dials.inc({ transport: 'tcp', outcome: 'success' })
    dials.inc({ transport: 'tcp', outcome: 'success' }, 2)
    dials.inc({ transport: 'tcp', outcome: 'success' }, -5) // ignored: counters only go up
    const peers = registry.gauge({ name: 'libp2p_peers', help: 'Peers' })
    peers.set(4)
    peers.dec()
    assert.equal(registry.expose(), [
      '# HELP libp2p_dials_total Dials',
      '# TYPE libp2p_dials_total counter',
      'libp2p_dials_total{outcome="success",transport="tcp"} 3',
      '# HELP libp2p_peers Peers',
      '# TYPE libp2p_peers gauge',
      'libp2p_peers 3',
      ''
    ].join('\n'))
  })

  it('escapes label values and help text', () => {
    const registry = new MetricsRegistry()
    registry.counter({ name: 'libp2p_x_total', help: 'a \\ b\nc', labelNames: ['v'] }).inc({ v: 'q"\\\n' })
    const text = registry.expose()
    assert.match(text, /# HELP libp2p_x_total a \\\\ b\\nc\n/)
    assert.ok(text.includes('libp2p_x_total{v="q\\"\\\\\\n"} 1'), text)
  })

  it('renders cumulative histogram buckets, +Inf, sum and count', () => {
    const registry = new MetricsRegistry()
    const h = registry.histogram({ name: 'libp2p_rtt_seconds', help: 'RTT', labelNames: ['p'], buckets: [0.1, 1] })
    h.observe(0.05, { p: 'a' })
    h.observe(0.5, { p: 'a' })
    h.observe(3, { p: 'a' })
    assert.equal(registry.expose().split('\n').filter(l => !l.startsWith('#')).join('\n'), [
      'libp2p_rtt_seconds_bucket{p="a",le="0.1"} 1',
      'libp2p_rtt_seconds_bucket{p="a",le="1"} 2',
      'libp2p_rtt_seconds_bucket{p="a",le="+Inf"} 3',
      'libp2p_rtt_seconds_sum{p="a"} 3.55',
      'libp2p_rtt_seconds_count{p="a"} 3',
      ''
    ].join('\n'))
  })

  it('runs collectors on every scrape, and a throwing one does not stop the others', () => {
    const registry = new MetricsRegistry()
    const g = registry.gauge({ name: 'libp2p_scrapes', help: 'Scrapes' })
    let n = 0
    registry.addCollector(() => { throw new Error('broken') })
    const remove = registry.addCollector(() => { g.set(++n) })
    assert.match(registry.expose(), /libp2p_scrapes 1\n/)
    assert.match(registry.expose(), /libp2p_scrapes 2\n/)
    remove()
    assert.match(registry.expose(), /libp2p_scrapes 2\n/)
  })

  it('refuses bad names, reserved labels, a name reused with another type, and bounds series', () => {
    const registry = new MetricsRegistry()
    assert.throws(() => registry.counter({ name: 'libp2p-bad', help: 'x' }), { code: 'ERR_INVALID_PARAMETERS' })
    assert.throws(() => registry.histogram({ name: 'libp2p_h', help: 'x', labelNames: ['le'] }), { code: 'ERR_INVALID_PARAMETERS' })
    assert.throws(() => registry.histogram({ name: 'libp2p_h2', help: 'x', buckets: [1, 1] }), { code: 'ERR_INVALID_PARAMETERS' })
    const c = registry.counter({ name: 'libp2p_c_total', help: 'x', labelNames: ['peer'] })
    assert.equal(registry.counter({ name: 'libp2p_c_total', help: 'x', labelNames: ['peer'] }), c)
    assert.throws(() => registry.gauge({ name: 'libp2p_c_total', help: 'x' }), { code: 'ERR_INVALID_PARAMETERS' })
    for (let i = 0; i < 5000; i++) c.inc({ peer: String(i) })
    assert.equal(registry.expose().split('\n').filter(l => l.startsWith('libp2p_c_total{')).length, 1000)
  })

  it('promtool check metrics accepts the exposition', { skip: prometheusSkip() }, () => {
    const registry = new MetricsRegistry()
    registry.counter({ name: 'libp2p_dials_total', help: 'Dials', labelNames: ['outcome'] }).inc({ outcome: 'success' })
    registry.gauge({ name: 'libp2p_connections', help: 'Open connections', labelNames: ['transport'] }).set(2, { transport: 'tcp' })
    registry.histogram({ name: 'libp2p_ping_rtt_seconds', help: 'Ping RTT' }).observe(0.002)
    assert.equal(promtoolCheckMetrics(registry.expose()), '')
  })
})
