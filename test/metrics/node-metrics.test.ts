/**
 * What a node with `metrics: true` reports, read from its exposition after real TCP
 * connections: dials and their phases, upgrades, stream bytes of closed streams, ping RTTs,
 * resource usage and refusals; and that a node without metrics has no registry.
 */
import { afterEach, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { makeNode, nextEvent, stopAll } from '../node/helpers.ts'

/** The value of one sample line (`name{labels} value`) in an exposition, or undefined. */
function sample (text: string, series: string): number | undefined {
  const line = text.split('\n').find(l => l.startsWith(series + ' '))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('node metrics', () => {
  afterEach(stopAll)

  it('count dials, upgrade and dial phases, closed streams\' bytes by protocol, and ping RTTs', async () => {
    const node = await makeNode({ metrics: true })
    const peer = await makeNode()
    const connection = await node.dial(peer.getMultiaddrs()[0])
    const stream = await connection.newStream('/echo/1.0.0')
    await stream.write(new Uint8Array(5000))
    await stream.closeWrite()
    for await (const chunk of stream) void chunk
    await stream.closed
    const rtt = await (node.services.ping as { ping(p: unknown): Promise<number> }).ping(peer.peerId)
    assert.ok(rtt >= 0)
    await assert.rejects(node.dial(multiaddr('/ip4/127.0.0.1/tcp/1')))

    const text = node.metrics!.expose()
    assert.equal(sample(text, 'libp2p_dials_total{outcome="success"}'), 1)
    assert.equal(sample(text, 'libp2p_dials_total{outcome="error"}'), 1)
    assert.match(text, /libp2p_dial_attempt_failures_total\{transport="tcp",error="[A-Z_]+"\} 1/)
    assert.equal(sample(text, 'libp2p_dial_phase_seconds_count{phase="connect",transport="tcp"}'), 1)
    assert.equal(sample(text, 'libp2p_upgrade_phase_seconds_count{phase="security",transport="tcp",direction="outbound"}'), 1)
    assert.equal(sample(text, 'libp2p_upgrade_phase_seconds_count{phase="muxer",transport="tcp",direction="outbound"}'), 1)
    // 5000 bytes each way plus the multistream-select exchange
    assert.ok(sample(text, 'libp2p_protocol_bytes_total{protocol="/echo/1.0.0",direction="out"}')! >= 5000, text)
    assert.ok(sample(text, 'libp2p_protocol_bytes_total{protocol="/echo/1.0.0",direction="in"}')! >= 5000, text)
    assert.equal(sample(text, 'libp2p_ping_rtt_seconds_count'), 1)
    assert.equal(sample(text, 'libp2p_resource_usage{scope="system",resource="connsOutbound"}'), 1)
    assert.ok(sample(text, 'libp2p_resource_limit{scope="system",resource="connsOutbound"}')! > 0)
    assert.ok(sample(text, 'libp2p_peer_bytes{peer="' + peer.peerId.toString() + '",direction="out"}')! >= 5000, text)
  })

  it('count resource manager refusals by scope kind and limit', async () => {
    const node = await makeNode({ metrics: true, resourceManager: { limits: { system: { connsInbound: 1 } } } })
    const first = await makeNode()
    const second = await makeNode()
    const opened = nextEvent(node, 'connection:open')
    await first.dial(node.getMultiaddrs()[0])
    await opened
    await assert.rejects(async () => {
      const c = await second.dial(node.getMultiaddrs()[0])
      await c.newStream('/echo/1.0.0')
    })
    assert.equal(sample(node.metrics!.expose(), 'libp2p_resource_refusals_total{scope="system",limit="connsInbound"}'), 1)
  })

  it('are absent unless asked for', async () => {
    const node = await makeNode()
    assert.equal(node.metrics, undefined)
  })
})
