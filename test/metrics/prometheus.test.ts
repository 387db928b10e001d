/**
 * A real Prometheus scrapes a ts-libp2p node: after a peer connects and opens a stream, the
 * query API returns the connection series (by transport, security, muxer, direction) and the
 * stream series (by protocol), and promtool accepts the node's exposition.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { serveMetrics } from '../../src/metrics/server.node.ts'
import type { MetricsServer } from '../../src/metrics/server.node.ts'
import { makeNode, nextEvent, stopAll } from '../node/helpers.ts'
import type { TestNode } from '../node/helpers.ts'
import { promtoolCheckMetrics, prometheusSkip, startPrometheus } from '../support/prometheus.ts'
import type { PrometheusInstance } from '../support/prometheus.ts'

describe('metrics scraped by a real Prometheus', { skip: prometheusSkip(), timeout: 90_000 }, () => {
  let server: MetricsServer
  let prometheus: PrometheusInstance | undefined
  let node: TestNode

  before(async () => {
    node = await makeNode({ metrics: true })
    assert.ok(node.metrics !== undefined)
    server = await serveMetrics(node.metrics)
    prometheus = await startPrometheus([`127.0.0.1:${server.port}`])
  })

  after(async () => {
    await prometheus?.stop()
    await server?.close()
    await stopAll()
  })

  it('serves the exposition at /metrics only', async () => {
    const res = await fetch(server.url)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
    assert.match(await res.text(), /# TYPE libp2p_connections gauge/)
    assert.equal((await fetch(server.url.replace('/metrics', '/other'))).status, 404)
    assert.equal((await fetch(server.url, { method: 'POST' })).status, 405)
  })

  it('returns the connection and stream series after a peer connects, and drops them when it leaves', async () => {
    assert.ok(prometheus !== undefined)
    const peer = await makeNode()
    const identified = nextEvent(node, 'peer:identify')
    const connection = await peer.dial(node.getMultiaddrs()[0])
    await identified
    const stream = await connection.newStream('/echo/1.0.0')
    await stream.write(new Uint8Array(1000))

    const connections = await prometheus.waitFor('libp2p_connections', r => r.some(s => s.value[1] === '1'))
    assert.deepEqual(
      connections.filter(s => s.value[1] === '1').map(s => ({ transport: s.metric.transport, security: s.metric.security, muxer: s.metric.muxer, direction: s.metric.direction })),
      [{ transport: 'tcp', security: '/noise', muxer: '/yamux/1.0.0', direction: 'inbound' }])
    const streams = await prometheus.waitFor('libp2p_streams{protocol="/echo/1.0.0"}', r => r.length === 1 && r[0].value[1] === '1')
    assert.equal(streams[0].metric.direction, 'inbound')
    await prometheus.waitFor('libp2p_protocol_bytes_total{protocol="/echo/1.0.0",direction="in"}', r => r.length === 1 && Number(r[0].value[1]) >= 1000)
    await prometheus.waitFor('libp2p_connections_opened_total{transport="tcp",direction="inbound"}', r => r.length === 1 && r[0].value[1] === '1')

    const closed = nextEvent(node, 'connection:close')
    await connection.close()
    await closed
    await prometheus.waitFor('libp2p_connections_closed_total{transport="tcp",direction="inbound"}', r => r.length === 1 && r[0].value[1] === '1')
    await prometheus.waitFor('libp2p_connections', r => r.length === 0)
  })

  it('promtool check metrics accepts the node\'s exposition', async () => {
    const text = await (await fetch(server.url)).text()
    assert.match(text, /libp2p_identify_total\{agent="ts-libp2p"\} [1-9]/)
    assert.equal(promtoolCheckMetrics(text), '')
  })

  it('every query of the Grafana dashboard (grafana/ts-libp2p-node.json) is valid PromQL over metrics the node exports', async () => {
    assert.ok(prometheus !== undefined)
    const dashboard = JSON.parse(readFileSync(new URL('../../grafana/ts-libp2p-node.json', import.meta.url), 'utf8')) as { panels: Array<{ targets: Array<{ expr: string }> }> }
    const exposition = await (await fetch(server.url)).text()
    const exported = new Set(exposition.split('\n').filter(l => l.startsWith('# TYPE ')).map(l => l.split(' ')[2]))
    const exprs = dashboard.panels.flatMap(p => p.targets.map(t => t.expr))
    assert.ok(exprs.length >= 10)
    for (const expr of exprs) {
      for (const name of expr.match(/libp2p_[a-z_]+/g) ?? []) {
        assert.ok(exported.has(name.replace(/_(bucket|sum|count)$/, '')), `${name} (in ${expr}) is exported`)
      }
      await prometheus.query(expr.replaceAll('$job', '.*').replaceAll('$instance', '.*'))
    }
  })
})
